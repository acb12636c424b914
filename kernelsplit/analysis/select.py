"""Layer / gate / part filters shared by inspect, export and check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ..errors import UsageError
from ..layouts import CELL_LAYOUTS, PARTS
from ..model import Artifact, GateTensor, RecurrentLayer


@dataclass(frozen=True)
class Selection:
    layers: tuple[str, ...] = ()
    gates: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.layers or self.gates or self.parts)

    def validate(self) -> None:
        """Reject gate and part names that no cell kind has (a typo, not an empty match)."""
        known_gates = sorted({g for lay in CELL_LAYOUTS.values() for g in lay.gates})
        for gate in self.gates:
            if gate not in known_gates:
                raise UsageError(f"unknown gate {gate!r}; gates are " + _gate_listing())
        for part in self.parts:
            if part not in PARTS:
                raise UsageError(f"unknown part {part!r}; parts are {', '.join(PARTS)}")

    def layer_matches(self, layer: RecurrentLayer) -> bool:
        if self.layers and not any(
            layer.name == pattern or fnmatchcase(layer.name, pattern) for pattern in self.layers
        ):
            return False
        return not self.gates or any(g in layer.gates for g in self.gates)

    def tensors(self, layer: RecurrentLayer) -> list[GateTensor]:
        return [
            t
            for t in layer.tensors
            if (not self.gates or t.gate in self.gates) and (not self.parts or t.part in self.parts)
        ]

    def apply(self, artifact: Artifact) -> list[tuple[RecurrentLayer, list[GateTensor]]]:
        chosen = []
        for layer in artifact.layers:
            if self.layer_matches(layer):
                tensors = self.tensors(layer)
                if tensors:
                    chosen.append((layer, tensors))
        return chosen

    def check_gates_fit(self, layers: Sequence[RecurrentLayer]) -> None:
        """A gate given for a selection where no layer has it: say which gates they do have."""
        if not self.gates or not layers:
            return
        if not any(g in layer.gates for layer in layers for g in self.gates):
            kinds = sorted({layer.cell for layer in layers})
            valid = "; ".join(f"{k}: {' '.join(CELL_LAYOUTS[k].gates)}" for k in kinds)
            raise UsageError(f"gate {', '.join(self.gates)} does not exist in the selected layers ({valid})")


def _gate_listing() -> str:
    return "; ".join(
        f"{kind}: " + " ".join(f"{g} ({lay.gate_names[g]})" for g in lay.gates) for kind, lay in CELL_LAYOUTS.items()
    )
