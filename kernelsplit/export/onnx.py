"""The ``onnx`` layout: ``W``, ``R``, ``B`` inputs of an ONNX LSTM / GRU / RNN node.

Shapes ``W [num_directions, G·h, in]``, ``R [num_directions, G·h, h]``, ``B [num_directions, 2·G·h]``
(input biases then recurrent biases; zeros where Keras stores none). Gate order LSTM i o f c, GRU
z r h (Keras's own). A Bidirectional is one node with ``direction="bidirectional"`` (index 1 is the
Keras backward layer); a lone go_backwards layer is ``direction="reverse"``. Keras GRU reset_after
True/False is ``linear_before_reset`` 1/0. Activations are ONNX's own (``HardSigmoid`` with the writing
generation's slope, ``Affine`` for linear...): any Keras activation ONNX's RNN operators compute
exactly is exported, the others refused. Node attributes are in the manifest (``groups[].target``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..layouts import CELL_LAYOUTS
from ..maths import OnnxActivation
from ..model import RecurrentLayer
from .base import ExportedArray, ExportGroup
from .framework import (
    FrameworkLayout,
    Unit,
    array,
    assumed_notes,
    fused,
    go_backwards,
    layer_dtype,
    merge_note,
    reset_after,
    resolved,
    time_major,
    zeros_like_bias,
)

#: Which activation each ONNX slot takes, per cell kind: LSTM f, g, h; GRU f, g; RNN f.
ONNX_SLOTS: dict[str, tuple[str, ...]] = {
    "lstm": ("recurrent_activation", "activation", "activation"),
    "gru": ("recurrent_activation", "activation"),
    "simple_rnn": ("activation",),
}


def onnx_activations(layer: RecurrentLayer) -> list[OnnxActivation] | str:
    """The layer's ONNX ``activations`` for one direction, or why ONNX cannot compute them."""
    found = []
    for key in ONNX_SLOTS[layer.cell]:
        act = resolved(layer, key)
        if act is None:
            return f"{key} is unknown"
        if act.onnx is None:
            return f"{key} {act.name} = {act.formula} has no exact ONNX RNN activation"
        found.append(act.onnx)
    return found


class OnnxLayout(FrameworkLayout):
    name = "onnx"
    target = "ONNX"

    def refusal(self, layer: RecurrentLayer) -> str | None:
        acts = onnx_activations(layer)
        if isinstance(acts, str):
            return f"{acts}: no layout kernelsplit writes can compute it (--layout keras writes its gate blocks)"
        return None

    def pair_extra(self, layer: RecurrentLayer) -> Any:
        return (layer.maths.activation.value, layer.maths.recurrent_activation.value, reset_after(layer))

    def build(self, unit: Unit) -> ExportGroup:
        first = unit.first
        order = CELL_LAYOUTS[first.cell].targets[self.name].gate_order
        dtype = layer_dtype(first)
        if unit.bidirectional:
            direction = "bidirectional"
        else:
            direction = "reverse" if go_backwards(first) else "forward"
        w = np.stack([fused(layer, "kernel", order).T for layer in unit.layers])
        r = np.stack([fused(layer, "recurrent_kernel", order).T for layer in unit.layers])
        arrays = [
            array("W", first, direction, "kernel", order, w, dtype),
            array("R", first, direction, "recurrent_kernel", order, r, dtype),
        ]
        if "bias" in first.parts:
            rows, zero_filled = [], False
            for layer in unit.layers:
                if "recurrent_bias" in layer.parts:
                    recurrent = fused(layer, "recurrent_bias", order)
                else:
                    recurrent, zero_filled = zeros_like_bias(layer), True
                rows.append(np.concatenate([fused(layer, "bias", order), recurrent]))
            arrays.append(array("B", first, direction, "bias", order, np.stack(rows), dtype, zero_filled))
        arrays = [_named_for_unit(a, unit) for a in arrays]
        attributes: dict[str, Any] = {"hidden_size": first.units, "direction": direction}
        if first.cell == "gru":
            attributes["linear_before_reset"] = 1 if reset_after(first) else 0
        attributes.update(activation_attributes(unit))
        notes = [n for layer in unit.layers for n in assumed_notes(layer)] + merge_note(unit, self.target)
        if time_major(first):
            notes.append("X is [seq_length, batch_size, input_size] (ONNX layout=0): the layer's own time_major input")
        else:
            notes.append(
                "X is [seq_length, batch_size, input_size] (ONNX layout=0): transpose Keras's batch-first input"
            )
        if direction == "reverse":
            notes.append(
                f"{first.name}: Keras go_backwards returns outputs in processing (reversed) order; "
                "ONNX direction=reverse returns Y in input time order"
            )
        target = {
            "op_type": CELL_LAYOUTS[first.cell].targets[self.name].op,
            "attributes": attributes,
            "inputs": [a.name for a in arrays],
            "input_size": first.tensor("kernel", first.gates[0]).shape[0],
            "layers": [layer.name for layer in unit.layers],
            "gate_order": list(order),
        }
        return ExportGroup(
            name=unit.name,
            cell=first.cell,
            units=first.units,
            layers=list(unit.layers),
            arrays=arrays,
            target=target,
            notes=notes,
        )


def _named_for_unit(exported: ExportedArray, unit: Unit) -> ExportedArray:
    """ONNX tensors hold every direction: attribute them to the unit (``bidi``), not one layer."""
    return replace(exported, layer=unit.name)


def activation_attributes(unit: Unit) -> dict[str, Any]:
    """``activations`` for every direction, with ``activation_alpha``/``activation_beta``.

    Always written out, with α and β listed for exactly the functions that take them, in the
    order of the activations across directions: that is how onnxruntime consumes them, and its
    defaults for Affine, ThresholdedRelu and ScaledTanh (0) differ from the spec's.
    """
    names: list[str] = []
    alpha: list[float] = []
    beta: list[float] = []
    for layer in unit.layers:
        acts = onnx_activations(layer)
        assert not isinstance(acts, str)  # refused before build
        for act in acts:
            names.append(act.op)
            if act.alpha is not None:
                alpha.append(act.alpha)
            if act.beta is not None:
                beta.append(act.beta)
    out: dict[str, Any] = {"activations": names}
    if alpha:
        out["activation_alpha"] = alpha
    if beta:
        out["activation_beta"] = beta
    return out
