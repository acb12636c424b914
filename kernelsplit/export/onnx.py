"""The ``onnx`` layout: ``W``, ``R``, ``B`` inputs of an ONNX LSTM / GRU / RNN node.

Shapes ``W [num_directions, G·h, in]``, ``R [num_directions, G·h, h]``, ``B [num_directions, 2·G·h]``
(input biases then recurrent biases; zeros where Keras stores none). Gate order LSTM i o f c, GRU
z r h (Keras's own). A Bidirectional is one node with ``direction="bidirectional"`` (index 1 is the
Keras backward layer); a lone go_backwards layer is ``direction="reverse"``. Keras GRU reset_after
True/False is ``linear_before_reset`` 1/0. Node attributes are in the manifest (``groups[].target``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..layouts import CELL_LAYOUTS
from ..model import RecurrentLayer
from .base import ExportedArray, ExportGroup
from .framework import (
    FrameworkLayout,
    Unit,
    activation_refusal,
    array,
    config_notes,
    fused,
    go_backwards,
    gru_reset_after,
    layer_dtype,
    zeros_like_bias,
)


class OnnxLayout(FrameworkLayout):
    name = "onnx"
    target = "ONNX"

    def refusal(self, layer: RecurrentLayer) -> str | None:
        if layer.cell == "gru" and gru_reset_after(layer) is None:
            return "GRU reset_after is unknown (no stored config and no bias to tell by shape)"
        return activation_refusal(layer, self.target, ("tanh",))

    def pair_extra(self, layer: RecurrentLayer) -> Any:
        reset_after = gru_reset_after(layer) if layer.cell == "gru" else None
        return (layer.config.get("activation"), layer.config.get("recurrent_activation"), reset_after)

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
            attributes["linear_before_reset"] = 1 if gru_reset_after(first) else 0
        notes = [n for layer in unit.layers for n in config_notes(layer, self.target)]
        notes.append("X is [seq_length, batch_size, input_size] (ONNX layout=0): transpose Keras's batch-first input")
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
