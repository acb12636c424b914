"""``inspect`` reporters: one per format, fed each artifact as soon as it is read.

A batch run holds one model at a time: ``add`` renders (or keeps only a small dict of) each
artifact before the next is opened; ``finish`` ends the output.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from .. import load

if TYPE_CHECKING:
    from ...model import Artifact, Failure, GateTensor, RecurrentLayer

    Selected = list[tuple[RecurrentLayer, list[GateTensor]]]

#: format name -> "module:Class" (imported only when used).
REPORTERS = {"text": "text:InspectTextReporter", "json": "json:InspectJsonReporter"}


class InspectReporter:
    name: str

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file

    def add(self, artifact: Artifact | Failure, selected: Selected) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """End the output (nothing to do for formats that render as they go)."""


def reporter(name: str, file: IO[str] | None = None) -> InspectReporter:
    cls: type[InspectReporter] = load(REPORTERS, __name__, name)
    return cls(file)
