"""Do two recurrent layers compute the same function? (docs/formats.md, "When two layers are equivalent").

Two layers are *equivalent* when, for every input and initial state, they give the same outputs —
proved from what the files store, never assumed:

* the same cell kind, units, shapes and outputs (``return_sequences``, ``return_state``,
  ``stateful``, ``go_backwards``, the Bidirectional ``merge_mode``, ConvLSTM geometry);
* the same activations *as functions* (``hard_sigmoid`` resolved by each file's writer: Keras 2 and
  Keras 3 disagree), every one known on both sides;
* the same kernel and recurrent-kernel values, block by block (dtype and storage may differ);
* the same *effective* biases. An LSTM, SimpleRNN or ConvLSTM adds its input-side and recurrent-side
  biases, so only their sum matters (a CuDNN layer's two halves against the one bias Keras converts
  them to); a GRU adds them for z and r, but for h the recurrent bias sits inside the reset
  product, so h's two halves must be equal one by one, and ``reset_after`` must agree. No bias
  (``use_bias=False``) is a zero bias. Where either side stores two halves, sums are formed exactly
  in float64 and must agree within one unit in the last place of the narrowest stored float type at
  the halves' magnitude: the rounding Keras's own float32 arithmetic adds when it adds each half (its
  CuDNN conversion gives exactly equal sums). Where both sides store one bias, it must be equal.

A weights-only file has no maths of its own (the model that loads it supplies them): against it,
equal effective weights are enough, and the reason says so. Otherwise a maths fact unknown on
either side means the function cannot be compared, and the layer is *changed*.

Config keys that only matter while training or for speed (``unit_forget_bias``, ``implementation``,
``consume_less``) never make two layers different.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..maths import resolve
from ..model import CellKind, Fact, GateTensor, Part, RecurrentLayer, Storage

#: Config keys that do not change what a trained layer computes.
TRAINING_ONLY_KEYS = frozenset({"unit_forget_bias", "implementation", "consume_less"})
#: Keras 1 config keys and the Keras 2 keys (and values) they became (the Keras 2 loader's conversion).
_LEGACY_KEYS = {"dim_ordering": "data_format", "border_mode": "padding", "subsample": "strides"}
_LEGACY_VALUES = {"data_format": {"th": "channels_first", "tf": "channels_last"}}
_STORAGE_NAMES = {
    Storage.FUSED: "one fused tensor per part",
    Storage.KERAS1: "Keras 1 per-gate arrays",
    Storage.CUDNN: "cuDNN layout with two bias halves",
}


@dataclass
class Equivalence:
    """The answer for one pair of layers: ``same_function`` with the reasons, else why not."""

    same_function: bool
    #: Why they are equivalent (``same_function``) or why that cannot be shown.
    reasons: list[str] = field(default_factory=list)
    #: Maths facts whose functions differ: (fact, old, new), e.g. hard_sigmoid slopes.
    maths_changes: list[tuple[str, str, str]] = field(default_factory=list)


def normalized_config(layer: RecurrentLayer) -> dict[str, Any]:
    """The layer's maths-relevant config with Keras 1 names mapped to Keras 2 ones."""
    out: dict[str, Any] = {}
    for key, value in layer.config.items():
        if key in TRAINING_ONLY_KEYS or key in ("activation", "recurrent_activation"):
            continue
        key = _LEGACY_KEYS.get(key, key)
        out[key] = _LEGACY_VALUES.get(key, {}).get(value, value) if isinstance(value, str) else value
    if "nb_row" in layer.config and "nb_col" in layer.config:
        out["kernel_size"] = [layer.config["nb_row"], layer.config["nb_col"]]
        out.pop("nb_row", None)
        out.pop("nb_col", None)
    for key in ("strides", "kernel_size", "dilation_rate"):
        if isinstance(out.get(key), tuple):
            out[key] = list(out[key])
    if not layer.inferred:  # Keras 3 and Keras 1/2 layers have no time_major: they are batch-major
        out.setdefault("time_major", False)
    return out


def _relevant_facts(layer: RecurrentLayer) -> tuple[str, ...]:
    facts = ["activation", "go_backwards"]
    if layer.cell != CellKind.SIMPLE_RNN:
        facts.append("recurrent_activation")
    if layer.cell == CellKind.GRU:
        facts.append("reset_after")
    if layer.direction is not None:
        facts.append("merge_mode")
    return tuple(facts)


def _described(fact: str, value: Any, layer: RecurrentLayer) -> str | None:
    """A fact as the function it computes (activations resolved by the writer); None when unknown."""
    if value is None:
        return None
    if fact in ("activation", "recurrent_activation") and layer.maths.writer is not None:
        resolved = resolve(str(value), layer.maths.writer)
        return f"{value} = {resolved.formula}" if resolved else None
    if fact in ("activation", "recurrent_activation"):
        return None
    return str(value)


def compare_maths(old: RecurrentLayer, new: RecurrentLayer) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(facts computed differently, facts unknown on a side) for the facts that matter to the cell."""
    changes: list[tuple[str, str, str]] = []
    unknown: list[str] = []
    for fact in _relevant_facts(old):
        a: Fact[Any] = getattr(old.maths, fact)
        b: Fact[Any] = getattr(new.maths, fact)
        described_a, described_b = _described(fact, a.value, old), _described(fact, b.value, new)
        if described_a is None or described_b is None:
            sides = [side for side, d in (("old", described_a), ("new", described_b)) if d is None]
            unknown.append(f"{fact} unknown in {' and '.join(sides)}")
        elif described_a != described_b:
            changes.append((fact, described_a, described_b))
    return changes, unknown


def _block(layer: RecurrentLayer, part: str, gate: str) -> GateTensor | None:
    try:
        return layer.tensor(part, gate)
    except KeyError:
        return None


def _values(layer: RecurrentLayer, part: str, gate: str) -> np.ndarray | None:
    tensor = _block(layer, part, gate)
    return None if tensor is None else np.asarray(tensor.array, dtype=np.float64)


def _stored_alike(old: RecurrentLayer, new: RecurrentLayer, part: str, gate: str) -> bool:
    """Both blocks hold the same stored bytes (dtype, shape, sha256), or neither exists: their values
    are equal without reading them again (a big model's blocks are read on demand)."""
    a, b = _block(old, part, gate), _block(new, part, gate)
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and a.sha256 == b.sha256


def _value_dtype(stored: str) -> np.dtype[Any]:
    """The dtype a block's values have (bfloat16 is computed on as float32)."""
    return np.dtype(np.float32) if stored == "bfloat16" else np.dtype(stored)


def _narrowest_float(layers: tuple[RecurrentLayer, ...]) -> np.dtype[Any]:
    dtypes = [_value_dtype(t.dtype) for layer in layers for t in layer.tensors if t.part.endswith("bias")]
    floats = [d for d in dtypes if d.kind == "f"]
    return min(floats, key=lambda d: d.itemsize) if floats else np.dtype(np.float64)


def _bias_terms(layer: RecurrentLayer, gate: str, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(input-side, recurrent-side) bias of a gate in float64; zeros where the file stores none."""
    zeros = np.zeros(shape, dtype=np.float64)
    input_side = _values(layer, Part.BIAS, gate)
    recurrent_side = _values(layer, Part.RECURRENT_BIAS, gate)
    return (zeros if input_side is None else input_side), (zeros if recurrent_side is None else recurrent_side)


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _sums_agree(
    old: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray], rounding: np.dtype[Any]
) -> bool:
    """The two sides' bias halves add up (exactly, in float64) to sums that agree within one unit in
    the last place of ``rounding`` at the halves' magnitude: Keras's own arithmetic, which adds each
    half in that type, rounds that much anyway (its CuDNN conversion gives exactly equal sums)."""
    a, b = old[0] + old[1], new[0] + new[1]
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return _equal(a, b)
    magnitude = np.max(np.abs(np.stack([*old, *new])), axis=0)
    ulp = np.spacing(magnitude.astype(rounding)).astype(np.float64)
    return bool(np.all(np.abs(a - b) <= ulp))


def compare_values(old: RecurrentLayer, new: RecurrentLayer) -> tuple[bool, list[str]]:
    """Whether kernels and effective biases are equal, with what made them equal though stored apart."""
    notes: list[str] = []
    for part in (Part.KERNEL, Part.RECURRENT_KERNEL):
        for gate in old.gates:
            if _stored_alike(old, new, part, gate):
                continue
            a, b = _values(old, part, gate), _values(new, part, gate)
            if a is None or b is None or not _equal(a, b):
                return False, [f"{part}[{gate}] differs"]
    units_shape = old.tensor(Part.KERNEL, old.gates[0]).shape[-1:]
    rounding = _narrowest_float((old, new))
    summed, split_equal = [], []
    for gate in old.gates:
        used_apart = old.cell == CellKind.GRU and gate == "h" and bool(old.maths.reset_after.value)
        if _stored_alike(old, new, Part.BIAS, gate) and _stored_alike(old, new, Part.RECURRENT_BIAS, gate):
            split_equal += [gate] if used_apart else []
            continue
        (a_in, a_rec), (b_in, b_rec) = _bias_terms(old, gate, units_shape), _bias_terms(new, gate, units_shape)
        if used_apart:
            if not (_equal(a_in, b_in) and _equal(a_rec, b_rec)):
                return False, [f"bias[{gate}] or recurrent_bias[{gate}] differs (h's halves are used apart)"]
            split_equal.append(gate)
            continue
        split = _block(old, Part.RECURRENT_BIAS, gate) is not None or _block(new, Part.RECURRENT_BIAS, gate) is not None
        if not split:  # one bias on each side: nothing was split, so no rounding to allow
            if not _equal(a_in, b_in):
                return False, [f"bias[{gate}] differs"]
        elif not _sums_agree((a_in, a_rec), (b_in, b_rec), rounding):
            return False, [f"bias[{gate}] + recurrent_bias[{gate}] differs"]
        if not (_equal(a_in, b_in) and _equal(a_rec, b_rec)):
            summed.append(gate)
    if summed:
        notes.append(
            "input-side and recurrent-side biases add up to the same values for "
            + ", ".join(summed)
            + (" (h's two halves equal one by one)" if split_equal else "")
        )
    return True, notes


def _storage_notes(old: RecurrentLayer, new: RecurrentLayer) -> list[str]:
    notes = []
    old_storage, new_storage = old.conversion or Storage.FUSED, new.conversion or Storage.FUSED
    if old_storage != new_storage:
        notes.append(f"stored as {_STORAGE_NAMES[old_storage]} vs {_STORAGE_NAMES[new_storage]}")
    if old.class_name != new.class_name and not (old.inferred or new.inferred):
        notes.append(f"{old.class_name} and {new.class_name} compute the same cell")
    old_dtypes = sorted({t.dtype for t in old.tensors})
    new_dtypes = sorted({t.dtype for t in new.tensors})
    if old_dtypes != new_dtypes:
        notes.append(f"stored as {'/'.join(old_dtypes)} vs {'/'.join(new_dtypes)} with equal values")
    return notes


def equivalence(old: RecurrentLayer, new: RecurrentLayer) -> Equivalence:
    """Whether ``old`` and ``new`` compute the same function, and why (module docstring)."""
    if old.cell != new.cell or old.units != new.units:
        return Equivalence(False, [f"{old.cell}({old.units}) vs {new.cell}({new.units})"])
    maths_changes, unknown = compare_maths(old, new)
    if maths_changes:
        return Equivalence(False, [f"{f} computes {a} vs {b}" for f, a, b in maths_changes], maths_changes)
    a_config, b_config = normalized_config(old), normalized_config(new)
    differing = sorted(k for k in set(a_config) & set(b_config) if a_config[k] != b_config[k])
    if differing:
        return Equivalence(False, [f"config {k}: {a_config[k]!r} vs {b_config[k]!r}" for k in differing])
    same_values, value_notes = compare_values(old, new)
    if not same_values:
        return Equivalence(False, value_notes)
    weights_only = [side for side, layer in (("old", old), ("new", new)) if layer.inferred]
    if unknown and not weights_only:
        return Equivalence(False, ["same weights, but the function cannot be compared: " + "; ".join(unknown)])
    notes = value_notes + _storage_notes(old, new)
    if weights_only:
        # A weights-only file has no function of its own: the model that loads it supplies the maths.
        notes.append(
            f"{' and '.join(weights_only)} stores weights only: loaded into the same model, both compute the same"
        )
    return Equivalence(True, notes)
