"""What recurrent cells compute: activations by Keras generation, defaults, other frameworks' forms.

An activation *name* in a config does not fix the function: ``hard_sigmoid`` is
``clip(0.2·x + 0.5, 0, 1)`` in Keras 1/2 and tf.keras but ``clip(x/6 + 0.5, 0, 1)`` (relu6(x+3)/6)
in Keras 3, so a name is always resolved for the generation that wrote (and trained) the file.
Defaults changed too (LSTM/GRU ``recurrent_activation`` hard_sigmoid → sigmoid in Keras 2.3.0 and
tf.keras 2.0). This module is the one table of those facts (docs/formats.md, "Activations and
defaults", with the sources); the classification step, the exporters and the forward pass use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._compat import StrEnum


class Generation(StrEnum):
    """The Keras lineage that wrote a file: it decides what each activation name computes."""

    KERAS1 = "keras1"  #: Keras 0.x and 1.x
    KERAS2 = "keras2"  #: standalone Keras 2.0-2.3
    TF_KERAS = "tf-keras"  #: tf.keras in TensorFlow 1.x/2.x, and the tf-keras package
    KERAS3 = "keras3"


_GENERATION_NAMES = {
    Generation.KERAS1: "Keras 1",
    Generation.KERAS2: "Keras 2",
    Generation.TF_KERAS: "tf.keras",
    Generation.KERAS3: "Keras 3",
}


@dataclass(frozen=True)
class Writer:
    """What a file says about the Keras that wrote it."""

    generation: Generation | None
    #: ``keras_version`` as stored (None when the file records none).
    version: str | None = None
    #: The generations it may be, when ``generation`` is None.
    candidates: tuple[Generation, ...] = ()

    @property
    def possible(self) -> tuple[Generation, ...]:
        return (self.generation,) if self.generation else self.candidates

    def describe(self) -> str:
        if self.generation is not None:
            name = _GENERATION_NAMES[self.generation]
            if not self.version:
                return name
            # "Keras 2.2.4", not "Keras 2 2.2.4"; tf.keras keeps its name ("tf.keras 2.21.0").
            return f"Keras {self.version}" if name.startswith("Keras ") else f"{name} {self.version}"
        if self.candidates:
            return "a Keras the file does not name (" + " or ".join(_GENERATION_NAMES[g] for g in self.candidates) + ")"
        return "a Keras the file does not name"


_VERSION = re.compile(r"^(\d+)\.(\d+)")


def writer_of(fmt: str, keras_version: str | None, written_by: Generation | None = None) -> Writer:
    """The writer of a file of format ``fmt`` (``ArtifactFormat`` value) recording ``keras_version``.

    ``written_by`` is the lineage a reader knows from the format itself; a stored version wins.
    """
    if fmt == "h5-keras0":
        return Writer(Generation.KERAS1, keras_version)
    if keras_version:
        match = _VERSION.match(keras_version)
        if match:
            major, minor = int(match.group(1)), int(match.group(2))
            if major <= 1:
                return Writer(Generation.KERAS1, keras_version)
            if major == 3:
                return Writer(Generation.KERAS3, keras_version)
            if major == 2 and minor <= 3 and not keras_version.endswith("-tf"):
                return Writer(Generation.KERAS2, keras_version)
            if major == 2:
                return Writer(Generation.TF_KERAS, keras_version)
        return Writer(None, keras_version, tuple(Generation))
    if written_by is not None:
        return Writer(written_by, None)
    if fmt in ("h5-full", "h5-weights"):
        # Keras 1 wrote no keras_version on weights files (Keras 2/3 loaders then assume "1").
        return Writer(Generation.KERAS1, None)
    if fmt in ("keras3-weights-h5", "keras3-sharded-weights"):
        return Writer(None, None, (Generation.TF_KERAS, Generation.KERAS3))
    if fmt == "savedmodel":
        return Writer(None, None, (Generation.TF_KERAS, Generation.KERAS3))
    return Writer(None, None, (Generation.TF_KERAS, Generation.KERAS3))


# ----------------------------------------------------------------------------------- activations


@dataclass(frozen=True)
class OnnxActivation:
    """An ONNX RNN ``activations`` entry with its ``activation_alpha``/``activation_beta`` (onnx.ai)."""

    op: str
    alpha: float | None = None
    beta: float | None = None


@dataclass(frozen=True)
class Activation:
    name: str
    #: The formula, for humans (``clip(0.2·x + 0.5, 0, 1)``).
    formula: str
    function: Callable[[np.ndarray], np.ndarray]
    #: The exact ONNX RNN activation, or None when ONNX's RNN operators cannot compute it.
    onnx: OnnxActivation | None = None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 0.5 * (np.tanh(0.5 * x) + 1.0)  # overflow-free logistic
    return result


def _softplus(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.logaddexp(0.0, x)
    return result


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805
_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU: the default ``approximate=False`` of tf.keras >= 2.4 and Keras 3."""
    erf = np.asarray(_erf(x / math.sqrt(2.0)), dtype=np.float64)
    result: np.ndarray = 0.5 * x * (1.0 + erf)
    return result


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    result: np.ndarray = e / np.sum(e, axis=-1, keepdims=True)
    return result


def _sparse_plus(x: np.ndarray) -> np.ndarray:
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, 0.25 * (x + 1.0) ** 2))


def _selu(x: np.ndarray) -> np.ndarray:
    return _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def _leaky_relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.2 * x)


def _clip(scale: float) -> Callable[[np.ndarray], np.ndarray]:
    """``clip(scale·x + 0.5, 0, 1)``: Keras 2's hard sigmoid (Keras 3's divides by 6 instead)."""
    return lambda x: np.clip(scale * x + 0.5, 0.0, 1.0)


def _shrink(x: np.ndarray, soft: bool) -> np.ndarray:
    inside = np.abs(x) <= 0.5
    return np.where(inside, 0.0, x - 0.5 * np.sign(x) if soft else x)


#: Activations whose definition is the same in every generation that has them.
_COMMON: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", "x", lambda x: x, OnnxActivation("Affine", 1.0, 0.0)),
        Activation("tanh", "tanh(x)", np.tanh, OnnxActivation("Tanh")),
        Activation("sigmoid", "1 / (1 + exp(-x))", _sigmoid, OnnxActivation("Sigmoid")),
        Activation("relu", "max(x, 0)", lambda x: np.maximum(x, 0.0), OnnxActivation("Relu")),
        Activation("relu6", "min(max(x, 0), 6)", lambda x: np.clip(x, 0.0, 6.0)),
        Activation("elu", "x if x > 0 else exp(x) - 1", _elu, OnnxActivation("Elu", 1.0)),
        Activation("celu", "x if x > 0 else exp(x) - 1", _elu, OnnxActivation("Elu", 1.0)),
        Activation(
            "selu",
            f"{_SELU_SCALE} · elu(x, α={_SELU_ALPHA})",
            _selu,
        ),
        Activation("softplus", "log(1 + exp(x))", _softplus, OnnxActivation("Softplus")),
        Activation("softsign", "x / (1 + |x|)", lambda x: x / (1.0 + np.abs(x)), OnnxActivation("Softsign")),
        Activation("exponential", "exp(x)", np.exp),
        Activation("swish", "x · sigmoid(x)", lambda x: x * _sigmoid(x)),
        Activation("silu", "x · sigmoid(x)", lambda x: x * _sigmoid(x)),
        Activation("gelu", "x/2 · (1 + erf(x/√2))", _gelu),
        Activation(
            "leaky_relu",
            "x if x > 0 else 0.2·x",
            _leaky_relu,
            OnnxActivation("LeakyRelu", 0.2),
        ),
        Activation("mish", "x · tanh(softplus(x))", lambda x: x * np.tanh(_softplus(x))),
        Activation("log_sigmoid", "-softplus(-x)", lambda x: -_softplus(-x)),
        Activation("hard_silu", "x · clip(x/6 + 0.5, 0, 1)", lambda x: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)),
        Activation("hard_swish", "x · clip(x/6 + 0.5, 0, 1)", lambda x: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)),
        Activation("hard_tanh", "clip(x, -1, 1)", lambda x: np.clip(x, -1.0, 1.0)),
        Activation("tanh_shrink", "x - tanh(x)", lambda x: x - np.tanh(x)),
        Activation("soft_shrink", "x ∓ 0.5 outside [-0.5, 0.5], else 0", lambda x: _shrink(x, soft=True)),
        Activation("hard_shrink", "x outside [-0.5, 0.5], else 0", lambda x: _shrink(x, soft=False)),
        Activation("squareplus", "(x + √(x² + 4)) / 2", lambda x: 0.5 * (x + np.sqrt(x * x + 4.0))),
        Activation("sparse_plus", "0 below -1, (x+1)²/4 in (-1, 1), x above 1", _sparse_plus),
        Activation(
            "sparse_sigmoid",
            "clip((x + 1)/2, 0, 1)",
            lambda x: np.clip(0.5 * (x + 1.0), 0.0, 1.0),
            OnnxActivation("HardSigmoid", 0.5, 0.5),
        ),
        Activation("softmax", "softmax over the units axis", _softmax),
        Activation("log_softmax", "log softmax over the units axis", lambda x: np.log(_softmax(x))),
    )
}

_HARD_SIGMOID_KERAS2 = Activation(
    "hard_sigmoid",
    "clip(0.2·x + 0.5, 0, 1)",
    _clip(0.2),
    OnnxActivation("HardSigmoid", 0.2, 0.5),
)
_HARD_SIGMOID_KERAS3 = Activation(
    "hard_sigmoid",
    "relu6(x + 3) / 6 = clip(x/6 + 0.5, 0, 1)",
    lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    OnnxActivation("HardSigmoid", 1.0 / 6.0, 0.5),
)
_BY_GENERATION: dict[Generation, dict[str, Activation]] = {
    Generation.KERAS1: {"hard_sigmoid": _HARD_SIGMOID_KERAS2},
    Generation.KERAS2: {"hard_sigmoid": _HARD_SIGMOID_KERAS2},
    Generation.TF_KERAS: {"hard_sigmoid": _HARD_SIGMOID_KERAS2},
    Generation.KERAS3: {"hard_sigmoid": _HARD_SIGMOID_KERAS3},
}


def activation(name: str, generation: Generation) -> Activation | None:
    """What ``name`` computes in ``generation``; None for a name kernelsplit cannot compute
    (custom functions, ``glu``, ``sparsemax``, ``threshold``)."""
    return _BY_GENERATION[generation].get(name) or _COMMON.get(name)


def activation_names(generation: Generation) -> list[str]:
    """Every activation name kernelsplit computes for ``generation``, sorted."""
    return sorted({*_COMMON, *_BY_GENERATION[generation]})


def resolve(name: str, writer: Writer) -> Activation | None:
    """``name`` as the file's writer computes it; None when unknown or when the possible writers disagree."""
    found = {activation(name, g) for g in writer.possible}
    return found.pop() if len(found) == 1 else None


def differs_in_keras3(name: str, generation: Generation) -> bool:
    """Keras 3 would load a layer naming ``name`` and compute another function (``hard_sigmoid``)."""
    if generation == Generation.KERAS3:
        return False
    ours, theirs = activation(name, generation), activation(name, Generation.KERAS3)
    return ours is not None and theirs is not None and ours.formula != theirs.formula


# -------------------------------------------------------------------------------------- defaults


def default_recurrent_activation(kind: str, writer: Writer) -> str | None:
    """The writer's default ``recurrent_activation`` for a cell kind; None when the writers disagree."""
    found = {_default_recurrent(kind, g, writer.version) for g in writer.possible}
    return found.pop() if len(found) == 1 else None


def _default_recurrent(kind: str, generation: Generation, version: str | None) -> str | None:
    if generation == Generation.KERAS3:
        return "sigmoid"
    if generation == Generation.KERAS1:
        return "hard_sigmoid"
    if kind == "conv_lstm":
        return "hard_sigmoid"  # every Keras 2 and tf.keras (still in tf-keras 2.21)
    if generation == Generation.KERAS2:
        return "sigmoid" if version and version.startswith("2.3") else "hard_sigmoid"
    # tf.keras: v1 layers (TF 1.x, "...-tf" versions up to 2.1.x) hard_sigmoid; TF >= 2.0 sigmoid.
    if version is None:
        return None
    if version.endswith("-tf"):
        if version.startswith(("2.0", "2.1")):
            return "hard_sigmoid"
        if version.startswith("2.2"):
            return None  # "2.2.4-tf": TF 1.13-1.15 (hard_sigmoid) and TF 2.0-2.1 (sigmoid) both wrote it
        return "sigmoid"
    return "sigmoid"


def default_reset_after(writer: Writer) -> bool | None:
    """The writer's default GRU ``reset_after``; None when unknown."""
    found = {_default_reset_after(g, writer.version) for g in writer.possible}
    return found.pop() if len(found) == 1 else None


def _default_reset_after(generation: Generation, version: str | None) -> bool | None:
    if generation in (Generation.KERAS1, Generation.KERAS2):
        return False
    if generation == Generation.KERAS3:
        return True
    if version is None or (version.endswith("-tf") and version.startswith("2.2")):
        return None
    # TF 1.x tf.keras ("-tf" up to 2.1.x): False; TF 2.x ("2.3.0-tf" from TF 2.2, then "2.4" on): True,
    # the same split as _default_recurrent's.
    return not (version.endswith("-tf") and version.startswith(("2.0", "2.1")))


#: The activation every generation defaults to (``activation=tanh``) and ``go_backwards=False``.
DEFAULT_ACTIVATION = "tanh"
