"""``inspect`` reporters: one per format, fed each artifact as soon as it is read.

A batch run holds one model at a time: ``add`` renders (or keeps only a small dict or row of) each
artifact before the next is opened; ``finish`` ends the output with what the walk skipped and, when
the filters matched nothing at all, the error (the command then exits 2).

When files are read in worker processes (``kernelsplit.batch``), a worker's reporter turns each
artifact into a picklable :meth:`~InspectReporter.digest` (rendered text, a JSON record, summary
rows) and the command's reporter takes it with :meth:`~InspectReporter.add_digest`: the same output
as ``add``, without an array crossing processes.
"""

from __future__ import annotations

import io
import sys
from typing import IO, TYPE_CHECKING, Any

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
    "jsonl": "json:InspectJsonlReporter",
}


class InspectReporter:
    name: str

    def __init__(self, file: IO[str] | None = None, *, wide: bool = False) -> None:
        self.file = file
        #: Show every column whatever the width (text formats).
        self.wide = wide

    def add(self, artifact: Artifact | Failure, selected: Selected) -> None:
        raise NotImplementedError

    def digest(self, artifact: Artifact | Failure, selected: Selected) -> Any:
        """What :meth:`add` keeps or prints of one artifact, as picklable data: made where the
        artifact was read. By default the text ``add`` renders into this reporter's file (there a
        ``StringIO``)."""
        self.add(artifact, selected)
        return self.file.getvalue() if isinstance(self.file, io.StringIO) else None

    def add_digest(self, digest: Any) -> None:
        """Take a :meth:`digest` made elsewhere: the same output as ``add`` of that artifact."""
        if digest:
            stream = self.file or sys.stdout
            stream.write(digest)
            stream.flush()

    def finish(self, skipped: list[Skipped] | None = None, error: KernelsplitError | None = None) -> None:
        """End the output: the files the walk skipped, and the run's error (filters matching nothing)."""


def reporter(name: str, file: IO[str] | None = None, *, wide: bool = False) -> InspectReporter:
    cls: type[InspectReporter] = load(REPORTERS, __name__, name)
    return cls(file, wide=wide)
