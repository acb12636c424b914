"""What the PyTorch and ONNX layouts share: which layers they can compute, and Bidirectional pairing.

A layout accepts a layer only when it computes the same function: every maths fact it needs must
be known (stored, or assumed by the user's choice) and each activation, resolved for the Keras
generation that wrote the file, must be one the target computes exactly. Refusals say what the
layer computes, what the target cannot, and which layout can (never one that would refuse too).
Facts: docs/formats.md, "Other frameworks" and "Activations and defaults".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ExportRefusedError
from ..forward import NEEDED
from ..forward import time_major as time_major  # exports ask it of their layers
from ..maths import Activation, default_recurrent_activation, resolve
from ..model import GateTensor, RecurrentLayer
from .base import ExportedArray, ExportGroup, Refusal

#: The maths facts a framework needs to know to compute the same function, per cell kind: those
#: the reference forward pass needs (one table; ConvLSTM has no framework layout).
NEEDED_MATHS = NEEDED
ASSUME_OPTION = "--assume-activations generation-default|sigmoid|hard_sigmoid"


def reset_after(layer: RecurrentLayer) -> bool | None:
    return layer.maths.reset_after.value


def go_backwards(layer: RecurrentLayer) -> bool:
    return bool(layer.maths.go_backwards.value)


def unknown_maths_refusal(layer: RecurrentLayer) -> str | None:
    """Why the layer's function is not known from the file: facts neither stored nor assumed."""
    unknown = [key for key in NEEDED_MATHS.get(layer.cell, ()) if not getattr(layer.maths, key).known]
    if not unknown:
        return None
    writer = layer.maths.writer
    default = default_recurrent_activation(layer.cell, writer) if writer else None
    if layer.cell == "simple_rnn":
        hint = "SimpleRNN defaults to activation=tanh"
    elif default is not None and writer is not None:
        hint = f"{writer.describe()}, which wrote it, defaulted to recurrent_activation={default}"
    else:
        who = writer.describe() if writer else "an unknown Keras"
        hint = f"it was written by {who}, whose default recurrent_activation is not certain"
    return f"{', '.join(unknown)} not stored in this file (no config; {hint}): choose with {ASSUME_OPTION}"


def resolved(layer: RecurrentLayer, key: str) -> Activation | None:
    """The layer's ``activation``/``recurrent_activation`` as the writing generation computes it."""
    name = getattr(layer.maths, key).value
    writer = layer.maths.writer
    return resolve(name, writer) if isinstance(name, str) and writer is not None else None


def unresolved_refusal(layer: RecurrentLayer) -> str | None:
    """An activation name kernelsplit cannot pin to one function (custom, or ambiguous generation)."""
    for key in ("activation", "recurrent_activation"):
        if key not in NEEDED_MATHS.get(layer.cell, ()):
            continue
        name = getattr(layer.maths, key).value
        if resolved(layer, key) is None:
            writer = layer.maths.writer
            who = writer.describe() if writer else "an unknown Keras"
            return f"{key}={name!r} is not a function kernelsplit can pin down for {who}"
    return None


@dataclass
class Unit:
    """One exportable thing: a single layer, or the forward+backward pair of a Bidirectional."""

    name: str
    layers: list[RecurrentLayer]

    @property
    def first(self) -> RecurrentLayer:
        return self.layers[0]

    @property
    def bidirectional(self) -> bool:
        return len(self.layers) == 2


_DIRECTION_COMPONENT = re.compile(r"/(forward|backward)(?=/|$)")


def _pair_key(layer: RecurrentLayer) -> str | None:
    if layer.direction not in ("forward", "backward"):
        return None
    key, count = _DIRECTION_COMPONENT.subn("", layer.name, count=1)
    return key if count else None


def _signature(layer: RecurrentLayer, extra: Any) -> tuple[Any, ...]:
    kernel_rows = layer.tensor("kernel", layer.gates[0]).shape[0]
    dtypes = tuple(sorted({t.dtype for t in layer.tensors}))
    return (layer.cell, layer.units, kernel_rows, tuple(layer.parts), dtypes, extra)


def pair_directions(layers: list[RecurrentLayer], signature_extra: Any = None) -> list[Unit]:
    """Join a Bidirectional's two directions into one unit when one framework module can hold both.

    Keras allows a ``backward_layer`` that differs from the forward one; such a pair (or a lone
    direction left by ``--layer``) is exported as separate single-direction units.
    """
    by_key: dict[str, list[RecurrentLayer]] = {}
    for layer in layers:
        key = _pair_key(layer)
        if key is not None:
            by_key.setdefault(key, []).append(layer)
    units: list[Unit] = []
    done: set[int] = set()
    for layer in layers:
        if id(layer) in done:
            continue
        key = _pair_key(layer)
        members = by_key.get(key, []) if key is not None else []
        forward = [m for m in members if m.direction == "forward"]
        backward = [m for m in members if m.direction == "backward"]
        if (
            len(forward) == 1
            and len(backward) == 1
            and key
            and not go_backwards(forward[0])
            and go_backwards(backward[0])
            and _signature(forward[0], _extra(forward[0], signature_extra))
            == _signature(backward[0], _extra(backward[0], signature_extra))
        ):
            units.append(Unit(key, [forward[0], backward[0]]))
            done.update({id(forward[0]), id(backward[0])})
        else:
            units.append(Unit(layer.name, [layer]))
            done.add(id(layer))
    return units


def _extra(layer: RecurrentLayer, extra: Any) -> Any:
    if extra is None:
        return None
    return extra(layer)


def merge_note(unit: Unit, target: str) -> list[str]:
    """How to merge the two directions' outputs as Keras does, when not by concatenation."""
    mode = unit.first.maths.merge_mode.value
    if not unit.bidirectional or mode in (None, "concat"):
        return []
    how = {"sum": "add", "mul": "multiply", "ave": "average"}.get(str(mode), f"merge ({mode})")
    return [
        f"{unit.name}: Keras merges the two directions with merge_mode={mode}; {target} returns them "
        f"concatenated on the feature axis: {how} the two halves to get Keras's output"
    ]


def assumed_notes(layer: RecurrentLayer) -> list[str]:
    """The layer's notes about maths the user chose to assume (they belong in the manifest)."""
    return [f"{layer.name}: {note}" for note in layer.notes if note.startswith("not stored in the file, assumed")]


def onnx_alternative(layer: RecurrentLayer) -> str:
    """Which layout can compute a layer PyTorch cannot: ONNX if it accepts it, else none."""
    from .onnx import OnnxLayout

    if OnnxLayout().refusal(layer) is None:
        return "--layout onnx can (its LSTM/GRU/RNN take these activations and both GRU forms)"
    return "no layout kernelsplit writes can compute it (--layout keras writes its gate blocks as they are)"


def common_refusal(layer: RecurrentLayer, target: str) -> str | None:
    if layer.cell == "conv_lstm":
        return f"{target} has no ConvLSTM (convolutional LSTM) layer"
    if layer.cell not in ("lstm", "gru", "simple_rnn"):
        return f"{target} has no equivalent of cell kind {layer.cell!r}"
    return None


def fused(layer: RecurrentLayer, part: str, order: tuple[str, ...]) -> np.ndarray:
    """The part's stored blocks concatenated on the gate axis in ``order`` (Keras gate letters)."""
    return layer.fused(part, order, stored=True)


def zeros_like_bias(layer: RecurrentLayer) -> np.ndarray:
    bias = fused(layer, "bias", layer.gates)
    return np.zeros_like(bias)


def array(
    name: str,
    layer: RecurrentLayer,
    direction: str | None,
    part: str,
    order: tuple[str, ...] | None,
    values: np.ndarray,
    dtype: str,
    zero_filled: bool = False,
) -> ExportedArray:
    return ExportedArray(
        name=name,
        layer=layer.name,
        direction=direction,
        part=part,
        gate=None,
        gate_order=order,
        array=np.ascontiguousarray(values),
        dtype=dtype,
        zero_filled=zero_filled,
    )


def layer_dtype(layer: RecurrentLayer) -> str:
    dtypes = {t.dtype for t in layer.tensors}
    if len(dtypes) != 1:
        raise ExportRefusedError(f"{layer.name}: its parts are stored in different dtypes {sorted(dtypes)}")
    return dtypes.pop()


class FrameworkLayout:
    """Shared driver: refuse what the framework cannot run, pair directions, build each unit."""

    name = ""
    target = ""

    def refusal(self, layer: RecurrentLayer) -> str | None:
        raise NotImplementedError

    def pair_extra(self, layer: RecurrentLayer) -> Any:
        return None

    def build(self, unit: Unit) -> ExportGroup:
        raise NotImplementedError

    def groups(self, chosen: list[tuple[RecurrentLayer, list[GateTensor]]]) -> tuple[list[ExportGroup], list[Refusal]]:
        refused: list[Refusal] = []
        accepted: list[RecurrentLayer] = []
        for layer, _tensors in chosen:
            reason = (
                common_refusal(layer, self.target)
                or unknown_maths_refusal(layer)
                or unresolved_refusal(layer)
                or self.refusal(layer)
            )
            if reason is None and len({t.dtype for t in layer.tensors}) != 1:
                reason = "its parts are stored in different dtypes"
            if reason is None:
                accepted.append(layer)
            else:
                refused.append(Refusal(layer.name, reason))
        units = pair_directions(accepted, self.pair_extra)
        return [self.build(unit) for unit in units], refused
