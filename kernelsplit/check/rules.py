"""The ``kernelsplit check`` rules: stable codes, default severities, documented thresholds.

Every rule is a class with a docstring saying *why* it exists; ``RULES`` is the registry. A rule
looks at one artifact and yields :class:`Hit` objects; the engine turns hits into findings with the
configured severity. Codes never change meaning; a retired rule keeps its code reserved.

Thresholds were chosen from measurements over every file in ``../shared/realworld/files`` (21
public models, Keras 1.0 to 3.13, 47 recurrent layers) and every fixture in ``fixtures/`` (their
weights are random normal x 0.5 or trained): see each rule and README.md "kernelsplit check".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..model import Artifact, GateTensor, RecurrentLayer
from .levels import Severity

FLOAT16_MAX = 65504.0


@dataclass(frozen=True)
class Threshold:
    key: str  #: the name in ``[tool.kernelsplit.thresholds]``
    default: float
    help: str


@dataclass(frozen=True)
class Hit:
    """What a rule saw; the engine adds code, severity and path."""

    detail: str
    layer: str | None = None
    part: str | None = None
    gate: str | None = None
    value: float | None = None
    threshold: float | None = None
    units: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    rule: str
    severity: Severity
    path: str
    detail: str
    layer: str | None = None
    part: str | None = None
    gate: str | None = None
    value: float | None = None
    threshold: float | None = None
    units: tuple[int, ...] | None = None

    @property
    def block(self) -> str:
        """``recurrent_kernel[f]``, ``bias`` or empty: the part (and gate) the finding is about."""
        if self.part is None:
            return ""
        return f"{self.part}[{self.gate}]" if self.gate else self.part

    @property
    def where(self) -> str:
        """``layer enc recurrent_kernel[f]`` (as much of it as applies)."""
        bits = [f"layer {self.layer}"] if self.layer is not None else []
        if self.block:
            bits.append(self.block)
        return " ".join(bits)

    @property
    def message(self) -> str:
        """The one-line message: artifact, layer, part and gate, then what is wrong."""
        where = self.where
        return f"{self.path}: {where}: {self.detail}" if where else f"{self.path}: {self.detail}"

    @property
    def short_message(self) -> str:
        """The message without the path (for formats that carry the file separately)."""
        return f"{self.where}: {self.detail}" if self.where else self.detail


@dataclass
class RuleContext:
    """Per-artifact state shared by the rules: thresholds, and analyses several rules need."""

    thresholds: dict[str, float] = field(default_factory=dict)
    _memo: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)

    def once(self, analysis: Callable[[RecurrentLayer], Any], layer: RecurrentLayer) -> Any:
        """``analysis(layer)``, computed once per artifact (KS105 and KS111 share the Gram checks)."""
        key = (analysis.__name__, id(layer))
        if key not in self._memo:
            self._memo[key] = analysis(layer)
        return self._memo[key]

    def threshold(self, rule: Rule, key: str) -> float:
        if key in self.thresholds:
            return self.thresholds[key]
        return next(t.default for t in rule.thresholds if t.key == key)


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    default_severity: ClassVar[Severity]
    summary: ClassVar[str]
    thresholds: ClassVar[tuple[Threshold, ...]] = ()

    @classmethod
    def description(cls) -> str:
        """The docstring, dedented: the rule's *why*, shipped in SARIF ``fullDescription``."""
        import inspect

        return inspect.cleandoc(cls.__doc__ or cls.summary)

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        raise NotImplementedError


def _finite(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def _blocks(layer: RecurrentLayer, part: str) -> list[GateTensor]:
    return [t for t in layer.tensors if t.part == part]


# ------------------------------------------------------------------------------------------------
# value rules
# ------------------------------------------------------------------------------------------------


class NonFinite(Rule):
    """NaN or ±Inf weights: the model computes NaN for every input that reaches them.

    A single non-finite weight poisons every output it feeds (NaN propagates through matmuls and
    every gate), so this is an error by default. Typical cause: a diverged training run saved
    without a NaN guard, or a bad cast when exporting.
    """

    code = "KS101"
    name = "non-finite"
    default_severity = Severity.ERROR
    summary = "NaN or ±Inf weights"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        for layer in artifact.layers:
            for tensor in layer.tensors:
                stats = tensor.stats
                if not stats.nan and not stats.inf:
                    continue
                values = _finite(tensor.array)
                pos, neg = int(np.isposinf(values).sum()), int(np.isneginf(values).sum())
                counts = [f"{n} {label}" for n, label in ((stats.nan, "NaN"), (pos, "+Inf"), (neg, "-Inf")) if n]
                yield Hit(
                    f"{', '.join(counts)} of {values.size} values",
                    layer.name,
                    tensor.part,
                    tensor.gate,
                    value=float(stats.nan + stats.inf),
                )


class Float16Overflow(Rule):
    """Finite values with |w| > 65504 become ±Inf when cast to float16.

    Matters for mixed precision (``mixed_float16`` keeps float32 variables but casts them for the
    compute), for TFLite / ONNX float16 export, and for anyone re-saving the model in half
    precision. A warning: a float32 deployment runs fine.
    """

    code = "KS102"
    name = "float16-overflow"
    default_severity = Severity.WARNING
    summary = "values that overflow float16 (|w| > 65504)"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        for layer in artifact.layers:
            for tensor in layer.tensors:
                abs_max = tensor.stats.abs_max
                if abs_max is None or abs_max <= FLOAT16_MAX:
                    continue
                values = np.abs(_finite(tensor.array))
                count = int((values[np.isfinite(values)] > FLOAT16_MAX).sum())
                yield Hit(
                    f"{count} value(s) above float16's {FLOAT16_MAX:g} (max |w| {abs_max:.6g})",
                    layer.name,
                    tensor.part,
                    tensor.gate,
                    value=abs_max,
                    threshold=FLOAT16_MAX,
                )


class AbsMax(Rule):
    """A weight whose magnitude is far beyond what trained recurrent cells hold.

    Measured largest |w| per recurrent layer (all parts, all gates): 9.32 over the 47 layers of the
    21 real-world models (textgenrnn's char-LSTM; the next are 8.39 and 5.04, the median ~1.1) and
    1.9 over every fixture. The default, 50, is 5x the largest trained value: values that large
    saturate every sigmoid/tanh they feed and usually mean a run-away update or a bad edit.
    """

    code = "KS103"
    name = "abs-max"
    default_severity = Severity.WARNING
    summary = "abs-max above a threshold"
    thresholds = (Threshold("abs-max", 50.0, "largest allowed |w| in any gate block"),)

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        limit = ctx.threshold(self, "abs-max")
        for layer in artifact.layers:
            for tensor in layer.tensors:
                abs_max = tensor.stats.abs_max
                if abs_max is not None and abs_max > limit:
                    yield Hit(
                        f"max |w| {abs_max:.6g} > {limit:g}",
                        layer.name,
                        tensor.part,
                        tensor.gate,
                        value=abs_max,
                        threshold=limit,
                    )


class DeadUnits(Rule):
    """A unit whose incoming weights are exactly zero in every gate carries no signal.

    Unit j is dead when column j of the input kernel and of the recurrent kernel is all zeros in
    every gate block: its gate pre-activations are constants (the biases), so h_j ignores both the
    input and the history. Exact zeros (no tolerance) are what pruning, masking bugs, or a
    zero-initialised-and-frozen slice leave behind; trained weights are never exactly zero across a
    whole column (measured: no such unit in any real-world or fixture layer).
    """

    code = "KS104"
    name = "dead-units"
    default_severity = Severity.WARNING
    summary = "units whose weights are zero across all gates"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        for layer in artifact.layers:
            incoming = _blocks(layer, "kernel") + _blocks(layer, "recurrent_kernel")
            if not incoming:
                continue
            alive = np.zeros(layer.units, dtype=bool)
            for tensor in incoming:
                columns = np.asarray(tensor.array).reshape(-1, tensor.shape[-1])
                alive |= np.any(columns != 0, axis=0)
            dead = tuple(int(j) for j in np.flatnonzero(~alive))
            if dead:
                listed = ", ".join(map(str, dead[:16])) + (", ..." if len(dead) > 16 else "")
                yield Hit(
                    f"{len(dead)} of {layer.units} units have all-zero input and recurrent "
                    f"weights in every gate: {listed}",
                    layer.name,
                    value=float(len(dead)),
                    units=dead,
                )


# ------------------------------------------------------------------------------------------------
# "never trained": Keras's initializer signature
# ------------------------------------------------------------------------------------------------

_EPS = {"float16": float(np.finfo(np.float16).eps), "bfloat16": 2.0**-7}
#: Relative tolerance on the Gram matrix of an orthogonal-initialised recurrent kernel (float32).
ORTHO_TOL = 1e-4


def _tolerance(dtype: str) -> float:
    return max(ORTHO_TOL, 10 * _EPS.get(dtype, 0.0))


def _scaled_semi_orthogonal(matrix: np.ndarray, tol: float) -> bool:
    """``M Mᵀ = s²I`` (or ``MᵀM``, the smaller Gram) for some gain s, within ``tol`` relative."""
    flat = _finite(matrix).reshape(-1, matrix.shape[-1])
    if not np.all(np.isfinite(flat)) or flat.size == 0:
        return False
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    scale = float(np.mean(np.diag(gram)))
    if scale <= 0.0:
        return False
    return float(np.abs(gram - scale * np.eye(gram.shape[0])).max()) <= tol * scale


def recurrent_at_orthogonal_init(layer: RecurrentLayer) -> bool:
    """True when the recurrent kernel is still exactly what Keras's ``Orthogonal`` initializer made.

    Keras 2/3 initialise the *fused* (u, G·u) matrix at once, so its rows are orthonormal but no
    single gate block is orthogonal; Keras 1 initialised each gate's (u, u) matrix on its own (gain
    1.1). Both are accepted, with any gain. CuDNN blocks are transposed back to the stored layout.
    """
    blocks = _blocks(layer, "recurrent_kernel")
    if not blocks:
        return False
    tol = _tolerance(blocks[0].dtype)
    if layer.conversion != "keras1":
        arrays = [b.array.T if layer.conversion == "cudnn" else b.array for b in blocks]
        if _scaled_semi_orthogonal(np.concatenate(arrays, axis=-1), tol):
            return True
    return all(_scaled_semi_orthogonal(b.array, tol) for b in blocks)


def biases_at_init(layer: RecurrentLayer) -> bool | None:
    """Biases exactly zeros, except an LSTM forget block of exact ones (``unit_forget_bias``).

    None when the layer has no bias at all (nothing to tell).
    """
    biases = _blocks(layer, "bias") + _blocks(layer, "recurrent_bias")
    if not biases:
        return None
    for tensor in biases:
        values = np.asarray(tensor.array)
        if tensor.part == "bias" and tensor.gate == "f" and layer.cell in ("lstm", "conv_lstm"):
            if not (np.all(values == 0) or np.all(values == 1)):
                return False
        elif np.any(values != 0):
            return False
    return True


def kernel_within_glorot(layer: RecurrentLayer) -> bool:
    """Every input weight within Glorot-uniform's ±sqrt(6 / (fan_in + fan_out)) bound.

    fan_out is the fused width G·u (Keras 2/3 initialise the fused kernel), or u for Keras 1's
    per-gate matrices; convolution kernels multiply both fans by the receptive field.
    """
    blocks = _blocks(layer, "kernel")
    if not blocks:
        return False
    shape = blocks[0].shape
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    width = shape[-1] if layer.conversion == "keras1" else shape[-1] * len(blocks)
    limit = math.sqrt(6.0 / (receptive * (shape[-2] + width)))
    slack = 1 + 2 * _EPS.get(blocks[0].dtype, float(np.finfo(np.float32).eps))
    for tensor in blocks:
        abs_max = tensor.stats.abs_max
        if tensor.stats.nan or tensor.stats.inf or abs_max is None or abs_max > limit * slack:
            return False
    return True


class Untrained(Rule):
    """The layer's weights are still exactly what Keras's default initializers produce.

    A layer saved straight after ``build()`` (a pipeline that skipped ``fit``, restored the wrong
    checkpoint, or saved the model object before loading weights into it). All three must hold:

    1. the recurrent kernel is (scaled) semi-orthogonal within 1e-4 relative — Keras's default
       ``Orthogonal`` ``recurrent_initializer`` (Keras 2/3: the fused u×G·u matrix has orthonormal
       rows, not each gate block; Keras 1: each gate block, gain 1.1). Gradient descent leaves that
       exact structure only when U gets no gradient at all. Measured Gram deviation: ≤ 5.4e-7 on
       fresh Keras layers up to 256 units, ≥ 0.158 on every trained real-world layer;
    2. the biases are exactly zero, except an LSTM forget block of exact ones (``unit_forget_bias``);
    3. every input weight lies within Glorot-uniform's bound (the default ``kernel_initializer``).

    Biases alone are not enough: an exact ``[0, 1, 0, 0]`` bias can survive training (frozen or
    disabled biases, ``bias_regularizer`` tricks), and an orthogonal U alone is not enough either:
    a model trained on length-1 sequences never updates U (see KS111). Layers built with non-default
    initializers are not recognised (false negatives, never false positives). A reservoir layer that
    is meant to stay at its initial weights is reported too: ignore KS105 for it.
    """

    code = "KS105"
    name = "untrained"
    default_severity = Severity.WARNING
    summary = "layer still at Keras's initializer signature (never trained)"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        for layer in artifact.layers:
            if not ctx.once(recurrent_at_orthogonal_init, layer) or not kernel_within_glorot(layer):
                continue
            bias = ctx.once(biases_at_init, layer)
            if bias is False:
                continue
            what = "zero biases" + (" (forget block ones)" if layer.cell in ("lstm", "conv_lstm") else "")
            detail = (
                "weights still at Keras's initializers: orthogonal recurrent kernel, "
                "Glorot-bounded input kernel" + (f", {what}" if bias else ", no bias") + "; the layer was never trained"
            )
            yield Hit(detail, layer.name)


class RecurrentUntouched(Rule):
    """The recurrent kernel is still at its orthogonal init while the biases trained.

    U got no gradient at all: typically the model was trained on sequences of length 1 (with
    h₀ = 0 the recurrent term is zero, so is its gradient — the layer is a feed-forward layer in
    disguise), or U was frozen on purpose. Informational. Fires on four real-world files (see
    README.md); in each, the biases moved and U is orthogonal to < 6e-7.
    """

    code = "KS111"
    name = "recurrent-untouched"
    default_severity = Severity.INFO
    summary = "recurrent kernel never updated (trained on length-1 sequences?)"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        for layer in artifact.layers:
            if ctx.once(recurrent_at_orthogonal_init, layer) and ctx.once(biases_at_init, layer) is False:
                yield Hit(
                    "recurrent kernel still exactly orthogonal (its initializer) while the "
                    "biases trained: it never got a gradient (trained on length-1 sequences?)",
                    layer.name,
                    "recurrent_kernel",
                )


# ------------------------------------------------------------------------------------------------
# dynamics rules
# ------------------------------------------------------------------------------------------------


class SpectralNorm(Rule):
    """A recurrent gate block whose largest singular value is far above trained models'.

    ‖U_g‖₂ > 1/γ (γ bounds the activation's derivative) is the necessary condition for exploding
    gradients (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural
    networks"). Gated cells routinely exceed 1 and stay well behaved, so the default is set from
    data: measured max over each square u×u recurrent gate block is 55.2 over the real-world
    models (textgenrnn; then 34.4, 32.3, 27.2, median 2.1) and 2.2 over the fixtures. Default 100.
    ConvLSTM blocks are convolution filters, not u×u matrices: skipped.
    """

    code = "KS106"
    name = "spectral-norm"
    default_severity = Severity.WARNING
    summary = "recurrent gate block spectral norm above a threshold (exploding gradients)"
    thresholds = (Threshold("spectral-norm", 100.0, "largest allowed singular value of U_g"),)

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        limit = ctx.threshold(self, "spectral-norm")
        for layer in artifact.layers:
            for tensor in _blocks(layer, "recurrent_kernel"):
                if len(tensor.shape) != 2 or tensor.shape[0] != tensor.shape[1]:
                    continue
                if tensor.stats.nan or tensor.stats.inf:
                    continue  # KS101 already reports it
                norm = float(np.linalg.norm(_finite(tensor.array), ord=2))
                if norm > limit:
                    yield Hit(
                        f"spectral norm {norm:.4g} > {limit:g}",
                        layer.name,
                        tensor.part,
                        tensor.gate,
                        value=norm,
                        threshold=limit,
                    )


class ForgetBias(Rule):
    """The LSTM forget-gate bias is so negative that the cell forgets everything each step.

    With b_f ≪ 0, f = σ(W_f x + U_f h + b_f) ≈ 0 and the memory horizon collapses to one step; the
    remedy is the opposite initialisation (b_f = 1, Jozefowicz, Zaremba & Sutskever 2015, "An
    Empirical Exploration of Recurrent Network Architectures"; Keras's ``unit_forget_bias``). The
    rule uses the mean effective forget bias (input-side plus recurrent-side half, e.g. CuDNN) over
    the layer's units: σ(-3) ≈ 0.047. Measured layer means: ≥ 0.06 over the real-world models
    (per-unit minimum -2.86) and ≥ -0.47 over the fixtures' random weights. Default -3.
    """

    code = "KS107"
    name = "forget-bias"
    default_severity = Severity.WARNING
    summary = "forget-gate bias far below zero (memory horizon collapses)"
    thresholds = (Threshold("forget-bias", -3.0, "lowest allowed mean forget-gate bias"),)

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        limit = ctx.threshold(self, "forget-bias")
        for layer in artifact.layers:
            if layer.cell not in ("lstm", "conv_lstm"):
                continue
            parts = [t for t in layer.tensors if t.gate == "f" and t.part in ("bias", "recurrent_bias")]
            if not parts or any(t.stats.nan or t.stats.inf for t in parts):
                continue
            effective = sum(_finite(t.array) for t in parts)
            mean = float(np.mean(effective))
            if mean < limit:
                yield Hit(
                    f"mean forget bias {mean:.4g} < {limit:g} (min {float(np.min(effective)):.4g}; "
                    f"sigmoid {0.5 * (1 + math.tanh(mean / 2)):.3g}): the cell forgets every step",
                    layer.name,
                    "bias",
                    "f",
                    value=mean,
                    threshold=limit,
                )


# ------------------------------------------------------------------------------------------------
# structure rules
# ------------------------------------------------------------------------------------------------


class ConfigMismatch(Rule):
    """The stored architecture disagrees with the stored weights.

    ``units`` in the layer config differs from the width the stored tensors have, or the config's
    class is a different cell kind than the shapes say. Keras refuses to load such a file, and any
    tool trusting the config would cut the gates in the wrong place; kernelsplit cuts by shapes.
    """

    code = "KS108"
    name = "config-mismatch"
    default_severity = Severity.ERROR
    summary = "shape/config mismatch (config units vs stored shapes)"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        for layer in artifact.layers:
            for mismatch in layer.mismatches:  # found once, where the split compares them
                yield Hit(
                    mismatch.message, layer.name, value=_as_float(mismatch.config), threshold=_as_float(mismatch.stored)
                )


class InferredLayer(Rule):
    """A recurrent layer found from tensor shapes alone (weights-only files have no config).

    Cell kind and units were inferred: 4 gate blocks are read as an LSTM, 3 as a GRU, 1 as a
    SimpleRNN. Activations and GRU ``reset_after`` are Keras's defaults, not facts from the file.
    Informational; fires on every weights-only file by design.
    """

    code = "KS109"
    name = "inferred-layer"
    default_severity = Severity.INFO
    summary = "recurrent layer inferred from shapes (no stored config)"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        for layer in artifact.layers:
            if layer.inferred:
                yield Hit(
                    f"no stored config: read as {layer.cell} with {layer.units} units from its shapes", layer.name
                )


class ExecutableLayers(Rule):
    """The file holds layers whose config is code (Lambda, custom objects).

    ``keras.models.load_model`` would run that code (Keras 3 refuses unless ``safe_mode=False``);
    kernelsplit never runs it. Informational: know that loading this artifact elsewhere executes
    code from it.
    """

    code = "KS110"
    name = "executable-layers"
    default_severity = Severity.INFO
    summary = "file contains executable layers (Lambda, custom objects); never run"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        if artifact.executable_layers:
            yield Hit(
                "contains executable layers (never run by kernelsplit): " + ", ".join(artifact.executable_layers),
                value=float(len(artifact.executable_layers)),
            )


RULES: tuple[Rule, ...] = (
    NonFinite(),
    Float16Overflow(),
    AbsMax(),
    DeadUnits(),
    Untrained(),
    SpectralNorm(),
    ForgetBias(),
    ConfigMismatch(),
    InferredLayer(),
    ExecutableLayers(),
    RecurrentUntouched(),
)
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
THRESHOLDS: dict[str, tuple[Rule, Threshold]] = {t.key: (r, t) for r in RULES for t in r.thresholds}


def resolve_rule(key: str) -> Rule | None:
    """A rule by code (``KS103``, any case) or name (``abs-max``)."""
    return RULES_BY_CODE.get(key.upper()) or RULES_BY_NAME.get(key.lower())


def _as_float(value: object) -> float | None:
    """A finding's number, or None for non-numbers and integers too large for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None
