"""Layer / gate / part filters shared by every command, with the one set of messages for filters
that match nothing.

``--layer`` matches a layer by its name (``enc``, ``bidi/forward``; globs allowed), by a prefix of
that path (``bidi`` selects both directions of the Bidirectional ``bidi``, ``encoder`` every cell
of the nested model ``encoder``), and by the other names its stored config gives it
(``RecurrentLayer.keras_names``: the wrapped layer of a Bidirectional, ``gru1`` or
``forward_gru1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from ..errors import NothingToExportError, UsageError
from ..layouts import CELL_LAYOUTS, PARTS

if TYPE_CHECKING:  # only annotations: the command line validates filters without importing numpy
    from ..model import Artifact, GateTensor, RecurrentLayer


class NothingMatchedError(NothingToExportError):
    """The filters select nothing in a file that has recurrent layers (code ``nothing-matched``)."""


def _matches(name: str, pattern: str) -> bool:
    return name == pattern or fnmatchcase(name, pattern)


def _under(name: str, pattern: str) -> bool:
    """``name`` lies inside the wrapper or nested model ``pattern`` names (``bidi`` -> ``bidi/forward``)."""
    return name.startswith(pattern.rstrip("/") + "/") or fnmatchcase(name, pattern.rstrip("/") + "/*")


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

    def names_layer(self, layer: RecurrentLayer) -> bool:
        """``--layer`` alone: by name, glob, wrapper or nested-model prefix, or a stored Keras name."""
        if not self.layers:
            return True
        return any(
            _matches(layer.name, p) or _under(layer.name, p) or any(_matches(k, p) for k in layer.keras_names)
            for p in self.layers
        )

    def layer_matches(self, layer: RecurrentLayer) -> bool:
        return self.names_layer(layer) and (not self.gates or any(g in layer.gates for g in self.gates))

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

    def explain_empty(self, layers: Sequence[RecurrentLayer]) -> str:
        """Why the filters select nothing among ``layers`` (which are not empty): the filter that
        failed and what exists instead."""
        named = [layer for layer in layers if self.names_layer(layer)]
        if not named:
            return f"no layer matches --layer {' '.join(self.layers)}; layers: {closest_names(self.layers, layers)}"
        if self.gates and not any(g in layer.gates for layer in named for g in self.gates):
            kinds = sorted({layer.cell for layer in named})
            valid = "; ".join(
                f"{k}: " + " ".join(f"{g} ({CELL_LAYOUTS[k].gate_names[g]})" for g in CELL_LAYOUTS[k].gates)
                for k in kinds
            )
            where = f"the layers matching --layer {' '.join(self.layers)}" if self.layers else "this file's layers"
            return f"gate {', '.join(self.gates)} does not exist in {where} ({valid})"
        parts = sorted({(layer.cell, tuple(layer.parts)) for layer in named if self.layer_matches(layer)})
        valid = "; ".join(f"{cell}: {' '.join(p)}" for cell, p in parts)
        gates = f" --gate {' '.join(self.gates)}" if self.gates else ""
        return f"no gate block matches --part {' '.join(self.parts)}{gates} in the selected layers (parts: {valid})"

    def choose(self, artifact: Artifact) -> list[tuple[RecurrentLayer, list[GateTensor]]]:
        """``apply``, raising :class:`NothingMatchedError` with the reason when the filters select
        nothing in a file that has recurrent layers."""
        chosen = self.apply(artifact)
        if not chosen and artifact.layers and self.active:
            raise NothingMatchedError(self.explain_empty(artifact.layers), path=artifact.path)
        return chosen

    def check_gates_fit(self, layers: Sequence[RecurrentLayer]) -> None:
        """A gate given for a selection where no layer has it: say which gates they do have."""
        if not self.gates or not layers:
            return
        if not any(g in layer.gates for layer in layers for g in self.gates):
            raise UsageError(self.explain_empty(layers))


def closest_names(patterns: Sequence[str], layers: Sequence[RecurrentLayer], limit: int = 12) -> str:
    """The layer names of a file, the ones closest to ``patterns`` first (at most ``limit``)."""
    from difflib import get_close_matches  # only when a filter matched nothing

    names = list(dict.fromkeys(layer.name for layer in layers))
    aliases = {k: layer.name for layer in layers for k in layer.keras_names}
    scored: list[str] = []
    every = [*names, *aliases]
    for pattern in patterns:
        scored += [n for n in every if n.startswith(pattern)]
        scored += [n for n in every if pattern in n]
        scored += get_close_matches(pattern, every, n=3, cutoff=0.6)
    scored = [aliases.get(n, n) for n in scored]
    ordered = list(dict.fromkeys([*scored, *names]))
    shown = ", ".join(ordered[:limit])
    return shown + (f", ... ({len(ordered)} in all)" if len(ordered) > limit else "")


def _gate_listing() -> str:
    return "; ".join(
        f"{kind}: " + " ".join(f"{g} ({lay.gate_names[g]})" for g in lay.gates) for kind, lay in CELL_LAYOUTS.items()
    )
