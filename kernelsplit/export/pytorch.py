"""The ``pytorch`` layout: a ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` state dict per layer (or Bidirectional).

PyTorch computes ``W x`` with ``weight_ih_l0`` of shape (G·h, in), so kernels are transposed; gate
order is LSTM i f g o (Keras i f c o: unchanged) and GRU r z n (Keras z r h: first two swapped).
PyTorch always has two biases whose sum matters; a single Keras bias goes to ``bias_ih`` and
``bias_hh`` is zeros. ``nn.LSTM``/``nn.GRU`` compute only sigmoid gates and tanh, and only the GRU of
Keras's reset_after=True; ``nn.RNN`` tanh or relu. Anything else is refused, naming the ONNX layout
when that one can compute it.
"""

from __future__ import annotations

from typing import Any

from ..layouts import CELL_LAYOUTS
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
    onnx_alternative,
    reset_after,
    resolved,
    time_major,
    zeros_like_bias,
)


class PyTorchLayout(FrameworkLayout):
    name = "pytorch"
    target = "PyTorch"

    def refusal(self, layer: RecurrentLayer) -> str | None:
        module = CELL_LAYOUTS[layer.cell].targets[self.name].op
        problems = []
        if layer.cell == "simple_rnn":
            act = resolved(layer, "activation")
            if act is not None and act.name not in ("tanh", "relu"):
                problems.append(f"activation {act.name} = {act.formula}")
            computes = "tanh or relu"
        else:
            for key, fixed in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
                act = resolved(layer, key)
                if act is not None and act.name != fixed:
                    problems.append(f"{key} {act.name} = {act.formula}")
            computes = "sigmoid gates and tanh"
            if layer.cell == "gru":
                computes += " with the reset gate after the recurrent matmul (reset_after=True)"
                if reset_after(layer) is False:
                    problems.append("reset_after=False (the reset gate applied before the recurrent matmul)")
        if not problems:
            return None
        return f"{'; '.join(problems)}: {module} computes only {computes}; {onnx_alternative(layer)}"

    def pair_extra(self, layer: RecurrentLayer) -> Any:
        return (layer.maths.activation.value, layer.maths.recurrent_activation.value)

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
            "batch_first": not time_major(first),
            "bidirectional": unit.bidirectional,
        }
        if first.cell == "simple_rnn":
            kwargs["nonlinearity"] = first.maths.activation.value
        notes = [n for layer in unit.layers for n in assumed_notes(layer)] + merge_note(unit, self.target)
        if not unit.bidirectional and go_backwards(first):
            flip = 0 if time_major(first) else 1
            note = (
                f"{first.name}: Keras go_backwards=True; PyTorch has no such flag: feed the input "
                f"reversed in time (torch.flip(x, [{flip}])); outputs then come in Keras's processing order"
            )
            if first.direction == "backward":
                note += "; as a Bidirectional direction, Keras flips them back into input order before merging"
            notes.append(note)
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
