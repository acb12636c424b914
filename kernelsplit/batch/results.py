"""What the command line's steps send back from a worker: small, picklable, and cheap to import.

The parent process unpickles these, so this module imports neither numpy nor h5py (the parent of
a batch never needs them; ``steps`` does the reading in the worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import KernelsplitError


@dataclass
class InspectResult:
    path: str
    error: KernelsplitError | None = None
    #: What the output format keeps of the artifact (``InspectReporter.digest``): text, a JSON
    #: record, summary rows.
    digest: Any = None
    #: Layers the filters kept, and why none was when the file has some (for the run's error).
    matched: int = 0
    unmatched: str | None = None


@dataclass
class DiffResult:
    text: str
    exit_code: int
    #: The files that could not be read (then nothing was compared).
    errors: list[KernelsplitError]
    #: What ``diff --plot`` said on stderr (the files it wrote), for the parent to say.
    notes: str = ""


@dataclass
class ExportSummary:
    output: str
    arrays: int
    files: int
    #: (layer, reason) for every layer ``--skip-unsupported`` left out.
    refused: list[tuple[str, str]]
