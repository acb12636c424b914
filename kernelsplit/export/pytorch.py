"""The ``pytorch`` layout: a ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` state dict per layer (or Bidirectional).

PyTorch computes ``W x`` with ``weight_ih_l0`` of shape (G·h, in), so kernels are transposed; gate
order is LSTM i f g o (Keras i f c o: unchanged) and GRU r z n (Keras z r h: first two swapped).
PyTorch always has two biases whose sum matters; a single Keras bias goes to ``bias_ih`` and
``bias_hh`` is zeros. Keras GRU(reset_after=False) applies r before the recurrent matmul, which
``nn.GRU`` cannot, so it is refused (ONNX ``linear_before_reset=0`` can: use ``--layout onnx``).
"""

from __future__ import annotations

from typing import Any

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


class PyTorchLayout(FrameworkLayout):
    name = "pytorch"
    target = "PyTorch"

    def refusal(self, layer: RecurrentLayer) -> str | None:
        if layer.cell == "gru":
            reset_after = gru_reset_after(layer)
            if reset_after is False:
                return (
                    "GRU with reset_after=False applies the reset gate before the recurrent matmul; "
                    "torch.nn.GRU only computes reset_after=True (use --layout onnx: linear_before_reset=0)"
                )
            if reset_after is None:
                return "GRU reset_after is unknown (no stored config and no bias to tell by shape)"
        return activation_refusal(layer, self.target, ("tanh", "relu"))

    def pair_extra(self, layer: RecurrentLayer) -> Any:
        return (layer.config.get("activation"), layer.config.get("recurrent_activation"))

    def build(self, unit: Unit) -> ExportGroup:
        first = unit.first
        order = CELL_LAYOUTS[first.cell].targets[self.name].gate_order
        arrays: list[ExportedArray] = []
        for layer, suffix in zip(unit.layers, ("", "_reverse"), strict=False):
            dtype = layer_dtype(layer)
            direction = layer.direction
            arrays.append(
                array(
                    f"weight_ih_l0{suffix}", layer, direction, "kernel", order, fused(layer, "kernel", order).T, dtype
                )
            )
            arrays.append(
                array(
                    f"weight_hh_l0{suffix}",
                    layer,
                    direction,
                    "recurrent_kernel",
                    order,
                    fused(layer, "recurrent_kernel", order).T,
                    dtype,
                )
            )
            if "bias" in layer.parts:
                arrays.append(
                    array(f"bias_ih_l0{suffix}", layer, direction, "bias", order, fused(layer, "bias", order), dtype)
                )
                if "recurrent_bias" in layer.parts:
                    arrays.append(
                        array(
                            f"bias_hh_l0{suffix}",
                            layer,
                            direction,
                            "recurrent_bias",
                            order,
                            fused(layer, "recurrent_bias", order),
                            dtype,
                        )
                    )
                else:
                    arrays.append(
                        array(
                            f"bias_hh_l0{suffix}",
                            layer,
                            direction,
                            "recurrent_bias",
                            order,
                            zeros_like_bias(layer),
                            dtype,
                            zero_filled=True,
                        )
                    )
        kwargs: dict[str, Any] = {
            "input_size": first.tensor("kernel", first.gates[0]).shape[0],
            "hidden_size": first.units,
            "num_layers": 1,
            "bias": "bias" in first.parts,
            "batch_first": True,
            "bidirectional": unit.bidirectional,
        }
        if first.cell == "simple_rnn":
            kwargs["nonlinearity"] = first.config.get("activation") or "tanh"
        notes = [n for layer in unit.layers for n in config_notes(layer, self.target)]
        if not unit.bidirectional and go_backwards(first):
            notes.append(
                f"{first.name}: Keras go_backwards=True; PyTorch has no such flag: feed the input "
                "reversed in time (torch.flip(x, [1])); outputs then come in Keras's processing order"
            )
        target = {
            "module": CELL_LAYOUTS[first.cell].targets[self.name].op,
            "kwargs": kwargs,
            "gate_order": {"keras": list(order), "pytorch": _torch_letters(first.cell)},
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


def _torch_letters(cell: str) -> list[str]:
    return {"lstm": ["i", "f", "g", "o"], "gru": ["r", "z", "n"], "simple_rnn": ["h"]}[cell]
