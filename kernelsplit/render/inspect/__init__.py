"""``inspect`` reporters: one per format, fed each artifact as soon as it is read.

A batch run holds one model at a time: ``add`` renders (or keeps only a small dict or row of) each
artifact before the next is opened; ``finish`` ends the output with what the walk skipped and, when
the filters matched nothing at all, the error (the command then exits 2).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from .. import load

if TYPE_CHECKING:
    from ...discover import Skipped
    from ...errors import KernelsplitError
    from ...model import Artifact, Failure, GateTensor, RecurrentLayer

    Selected = list[tuple[RecurrentLayer, list[GateTensor]]]

#: format name -> "module:Class" (imported only when used).
REPORTERS = {
    "text": "text:InspectTextReporter",
    "summary": "summary:InspectSummaryReporter",
    "json": "json:InspectJsonReporter",
}


class InspectReporter:
    name: str

    def __init__(self, file: IO[str] | None = None, *, wide: bool = False) -> None:
        self.file = file
        #: Show every column whatever the width (text formats).
        self.wide = wide

    def add(self, artifact: Artifact | Failure, selected: Selected) -> None:
        raise NotImplementedError

    def finish(self, skipped: list[Skipped] | None = None, error: KernelsplitError | None = None) -> None:
        """End the output: the files the walk skipped, and the run's error (filters matching nothing)."""


def reporter(name: str, file: IO[str] | None = None, *, wide: bool = False) -> InspectReporter:
    cls: type[InspectReporter] = load(REPORTERS, __name__, name)
    return cls(file, wide=wide)
