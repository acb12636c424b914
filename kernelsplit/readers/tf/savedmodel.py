"""SavedModel folders (``saved_model.pb`` + ``variables/``): the reader."""

from __future__ import annotations

from ...model import ArtifactFormat
from ..base import Probe, Reader, ReadResult


class SavedModelReader(Reader):
    name = ArtifactFormat.SAVEDMODEL

    def matches(self, probe: Probe) -> bool:
        return probe.has_file("saved_model.pb") or probe.has_file("saved_model.pbtxt")

    def read(self, probe: Probe) -> ReadResult:
        # Imported here: the TF machinery costs start-up time for every .h5 and .keras file.
        from .cells import to_result
        from .contents import read_savedmodel

        return to_result(read_savedmodel(probe.path))
