"""The ``keras`` layout: one array per (layer, part, gate), exactly the blocks ``inspect`` shows."""

from __future__ import annotations

from ..model import GateTensor, RecurrentLayer
from .base import ExportedArray, ExportGroup, Refusal


class KerasLayout:
    name = "keras"

    def groups(self, chosen: list[tuple[RecurrentLayer, list[GateTensor]]]) -> tuple[list[ExportGroup], list[Refusal]]:
        groups = []
        for layer, tensors in chosen:
            arrays = [
                ExportedArray(
                    name=f"{t.part}.{t.gate}",
                    layer=layer.name,
                    direction=layer.direction,
                    part=t.part,
                    gate=t.gate,
                    gate_order=None,
                    array=t.stored_bytes_array,
                    dtype=t.dtype,
                    source=t.source,
                )
                for t in tensors
            ]
            groups.append(
                ExportGroup(
                    name=layer.name,
                    cell=layer.cell,
                    units=layer.units,
                    layers=[layer],
                    arrays=arrays,
                    target={"gates": list(layer.gates)},
                )
            )
        return groups, []
