"""What the PyTorch and ONNX layouts share: which layers they can take, and Bidirectional pairing.

Both frameworks fix the activations (sigmoid gates, tanh candidate/output; ``nn.RNN`` and ONNX
``RNN`` take tanh, ``nn.RNN`` also relu), have no ConvLSTM, and pack a Bidirectional's two
directions into one module/node. Facts: docs/formats.md, "Other frameworks".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ExportRefusedError
from ..model import GateTensor, RecurrentLayer
from .base import ExportedArray, ExportGroup, Refusal

#: Activations each cell kind must have, as (config key, accepted Keras names).
FIXED_ACTIVATIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "lstm": (("activation", ("tanh",)), ("recurrent_activation", ("sigmoid",))),
    "gru": (("activation", ("tanh",)), ("recurrent_activation", ("sigmoid",))),
}


def gru_reset_after(layer: RecurrentLayer) -> bool | None:
    """reset_after from the config, else from the stored shapes (None when nothing tells)."""
    stored = layer.config.get("reset_after")
    if stored is not None:
        return bool(stored)
    if layer.conversion == "cudnn" or "recurrent_bias" in layer.parts:
        return True
    if "bias" in layer.parts:  # a (3u,) bias only exists with reset_after=False
        return False
    return None


def go_backwards(layer: RecurrentLayer) -> bool:
    return bool(layer.config.get("go_backwards", False))


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
            and (go_backwards(backward[0]) or "go_backwards" not in backward[0].config)
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


def activation_refusal(layer: RecurrentLayer, target: str, allowed_simple: tuple[str, ...]) -> str | None:
    """Why ``target`` cannot run this layer's activations, or None."""
    rules = FIXED_ACTIVATIONS.get(layer.cell)
    if layer.cell == "simple_rnn":
        rules = (("activation", allowed_simple),)
    for key, accepted in rules or ():
        value = layer.config.get(key)
        if value is None:
            continue  # not stored (weights-only file, CuDNN): the defaults are assumed, see notes()
        if not isinstance(value, str) or value not in accepted:
            name = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "RNN"}[layer.cell]
            return f"{key}={value!r}: {target}'s {name} computes only {' or '.join(accepted)} for {key}"
    return None


def config_notes(layer: RecurrentLayer, target: str) -> list[str]:
    """What the file does not say and the export had to assume."""
    notes = []
    missing = [
        key for key, _ in FIXED_ACTIVATIONS.get(layer.cell, (("activation", ()),)) if layer.config.get(key) is None
    ]
    if missing and layer.conversion != "cudnn":
        notes.append(f"{layer.name}: {', '.join(missing)} not stored in the file; {target}'s defaults are assumed")
    if "go_backwards" not in layer.config and layer.direction is None:
        notes.append(f"{layer.name}: go_backwards not stored in the file; exported as a forward layer")
    return notes


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
            reason = common_refusal(layer, self.target) or self.refusal(layer)
            if reason is None and len({t.dtype for t in layer.tensors}) != 1:
                reason = "its parts are stored in different dtypes"
            if reason is None:
                accepted.append(layer)
            else:
                refused.append(Refusal(layer.name, reason))
        units = pair_directions(accepted, self.pair_extra)
        return [self.build(unit) for unit in units], refused
