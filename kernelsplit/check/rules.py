"""The ``kernelsplit check`` rules: stable codes, default severities, documented thresholds.

Every rule is a class; ``RULES`` is the registry. A rule looks at one artifact and yields
:class:`Hit` objects; the engine turns hits into findings with the configured severity. Codes never
change meaning; a retired rule keeps its code reserved.

Each rule's documentation (what fires, why it matters, the threshold and the measurement it was set
from) is data, next to this module: ``rules.toml``, shown by ``kernelsplit rule CODE`` and shipped in
SARIF. Thresholds were measured with ``benchmarks/measure_thresholds.py`` over every fixture and
the 21 public models of the team's real-world corpus.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..model import Artifact, GateTensor, RecurrentLayer
from .levels import Severity
from .linalg import BOUND_MARGIN, abs_sum_bounds, spectral_norm

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
    #: How to change the threshold the finding crossed (rules with a configurable threshold).
    help: str | None = None

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


@dataclass(frozen=True)
class RuleDoc:
    """A rule's documentation, from ``rules.toml``."""

    what: str
    why: str
    #: The threshold or tolerance and the measurement behind it (None: the rule has none).
    measured: str | None


@functools.cache
def _docs() -> dict[str, RuleDoc]:
    from importlib.resources import files

    from .config import toml_loads

    source = files(__package__).joinpath("rules.toml")
    table = toml_loads(source.read_text(encoding="utf-8"), Path(str(source)))
    return {code: RuleDoc(entry["what"], entry["why"], entry.get("measured")) for code, entry in table.items()}


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    default_severity: ClassVar[Severity]
    summary: ClassVar[str]
    thresholds: ClassVar[tuple[Threshold, ...]] = ()

    @classmethod
    def doc(cls) -> RuleDoc:
        return _docs()[cls.code]

    @classmethod
    def description(cls) -> str:
        """What, why and the threshold's measurement: shipped in SARIF ``fullDescription``."""
        doc = cls.doc()
        return "\n\n".join(text for text in (doc.what, doc.why, doc.measured) if text)

    @classmethod
    def how_to_change(cls) -> list[str]:
        """How to change this rule's thresholds, severity and scope (generated, the same for every rule)."""
        lines = [
            f"threshold: --set {cls.code}.{t.key}=N, or {t.key} = N in [tool.kernelsplit.thresholds] "
            f"(default {t.default:g}: {t.help})"
            for t in cls.thresholds
        ]
        lines += [
            f'severity: --set {cls.code}.severity=error|warning|info, or {cls.code} = "..." in '
            f"[tool.kernelsplit.severity] (default {cls.default_severity})",
            f'off: --ignore {cls.code}, or ignore = ["{cls.code}"] in [tool.kernelsplit]; for some files only: '
            f'[tool.kernelsplit.per-path-ignores] "glob" = ["{cls.code}"]',
        ]
        return lines

    @classmethod
    def threshold_help(cls, key: str, value: float) -> str:
        """The one-line hint a finding carries: the threshold in effect and how to change it."""
        return (
            f"threshold {key} = {value:g}; change it with --set {cls.code}.{key}=N or {key} = N in "
            f"[tool.kernelsplit.thresholds] (`kernelsplit rule {cls.code}` says how it was set)"
        )

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        raise NotImplementedError


def _finite(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def _zero_count(tensor: GateTensor) -> int:
    """The block's exact zeros, from its statistics (``zeros`` is their share of all values)."""
    return round(tensor.stats.zeros * math.prod(tensor.shape))


def _blocks(layer: RecurrentLayer, part: str) -> list[GateTensor]:
    return [t for t in layer.tensors if t.part == part]


# ------------------------------------------------------------------------------------------------
# value rules
# ------------------------------------------------------------------------------------------------


class NonFinite(Rule):
    """NaN or ±Inf weights (docs: rules.toml)."""

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
    """Finite values with |w| > 65504 that become ±Inf in float16 (docs: rules.toml)."""

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
    """A weight far beyond what trained recurrent cells hold (docs: rules.toml)."""

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
    """A unit whose incoming weights are exactly zero in every gate (docs: rules.toml)."""

    code = "KS104"
    name = "dead-units"
    default_severity = Severity.WARNING
    summary = "units whose weights are zero across all gates"

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        for layer in artifact.layers:
            incoming = _blocks(layer, "kernel") + _blocks(layer, "recurrent_kernel")
            if not incoming:
                continue
            if any(_zero_count(t) < math.prod(t.shape[:-1]) for t in incoming):
                continue  # a block with fewer zeros than a column holds has no all-zero column
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
    return _gram_is_scaled_identity(gram, tol)


def _gram_is_scaled_identity(gram: np.ndarray, tol: float) -> bool:
    scale = float(np.mean(np.diag(gram)))
    if scale <= 0.0:
        return False
    return float(np.abs(gram - scale * np.eye(gram.shape[0])).max()) <= tol * scale


#: Rows whose norms are compared first: trained rows differ by far more than the tolerance.
_HEAD_ROWS = 8


def _semi_orthogonal(parts: list[GateTensor], transposed: bool, stored_layout: bool, tol: float) -> bool:
    """:func:`_scaled_semi_orthogonal` of ``M = [P₁ … Pₙ]`` (each ``P = part.array``, or its transpose),
    bounded: a trained matrix is refuted from its first rows, and only a matrix that passes costs the
    Gram matrix, accumulated one block at a time in float64 (memory: the Gram and one block).

    The refutation is exact: the mean of ``diag(M Mᵀ)`` is ``‖M‖_F²/rows`` (from the blocks' L2
    statistics), and a diagonal entry (a row's squared norm) further than ``tol`` from it is an
    entry of ``M Mᵀ - s²I`` above the tolerance. ``stored_layout``: the rows of ``P`` are the rows
    of the block as stored (so they can be read alone).
    """
    if any(p.stats.nan or p.stats.inf for p in parts):
        return False
    oriented = [(p.shape[::-1] if transposed else p.shape) for p in parts]
    rows, cols = oriented[0][0], sum(shape[1] for shape in oriented)
    if rows > cols:  # the smaller Gram is MᵀM (never for a u × G·u recurrent kernel): the exact test
        return _scaled_semi_orthogonal(np.concatenate([p.array.T if transposed else p.array for p in parts], -1), tol)
    scale = sum(float(p.stats.l2 or 0.0) ** 2 for p in parts) / rows
    if scale <= 0.0:
        return False
    if stored_layout:
        heads = [np.asarray(p.block.head(_HEAD_ROWS), dtype=np.float64) for p in parts]
        squares = sum(np.einsum("ij,ij->i", head, head) for head in heads)
        if bool(np.any(np.abs(squares - scale) > tol * scale)):
            return False
    gram = np.zeros((rows, rows))
    for part in parts:
        matrix = _finite(part.array)
        matrix = matrix.T if transposed else matrix
        gram += matrix @ matrix.T
    return _gram_is_scaled_identity(gram, tol)


def recurrent_at_orthogonal_init(layer: RecurrentLayer) -> bool:
    """True when the recurrent kernel is still exactly what Keras's ``Orthogonal`` initializer made.

    Keras 2/3 initialise the *fused* (u, G·u) matrix at once, so its rows are orthonormal but no
    single gate block is orthogonal; Keras 1 initialised each gate's (u, u) matrix on its own (gain
    1.1). Both are accepted, with any gain. CuDNN blocks are transposed back to the stored layout.
    A trained kernel is refuted from a few rows; only a kernel whose first rows have equal norms
    costs the u×u Gram matrix (see :func:`_semi_orthogonal`).
    """
    blocks = _blocks(layer, "recurrent_kernel")
    if not blocks:
        return False
    tol = _tolerance(blocks[0].dtype)
    if any(len(b.shape) != 2 for b in blocks):  # ConvLSTM filters: small, the exact test as it is
        if layer.conversion != "keras1":
            arrays = [b.array.T if layer.conversion == "cudnn" else b.array for b in blocks]
            if _scaled_semi_orthogonal(np.concatenate(arrays, axis=-1), tol):
                return True
        return all(_scaled_semi_orthogonal(b.array, tol) for b in blocks)
    cudnn = layer.conversion == "cudnn"
    if layer.conversion != "keras1" and _semi_orthogonal(blocks, cudnn, True, tol):
        return True
    return all(_semi_orthogonal([b], False, not cudnn, tol) for b in blocks)


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
    """Weights still exactly at Keras's default initializers (docs: rules.toml)."""

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
    """The recurrent kernel still at its orthogonal init while the biases trained (docs: rules.toml)."""

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
    """A recurrent gate block's spectral norm far above trained models' (docs: rules.toml)."""

    code = "KS106"
    name = "spectral-norm"
    default_severity = Severity.WARNING
    summary = "recurrent gate block spectral norm above a threshold (exploding gradients)"
    thresholds = (Threshold("spectral-norm", 500.0, "largest allowed singular value of U_g"),)

    def check(self, artifact: Artifact, ctx: RuleContext) -> Iterator[Hit]:
        limit = ctx.threshold(self, "spectral-norm")
        for layer in artifact.layers:
            square = [
                t
                for t in _blocks(layer, "recurrent_kernel")
                if len(t.shape) == 2 and t.shape[0] == t.shape[1] and not (t.stats.nan or t.stats.inf)
            ]  # a non-finite block: KS101 already reports it
            beyond = [t for t in square if (t.stats.l2 or 0.0) * BOUND_MARGIN > limit]
            if not beyond:
                continue
            bounds = abs_sum_bounds([t.block for t in beyond])
            for tensor, bound in zip(beyond, bounds, strict=True):
                if bound <= limit:
                    continue
                norm = spectral_norm(tensor.array)
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
    """An LSTM forget-gate bias so negative the cell forgets every step (docs: rules.toml)."""

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
    """The stored architecture disagrees with the stored weights (docs: rules.toml)."""

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
    """A recurrent layer found from tensor shapes alone (docs: rules.toml)."""

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
    """Layers whose config is code (Lambda, custom objects) (docs: rules.toml)."""

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
