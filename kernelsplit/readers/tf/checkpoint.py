"""TF checkpoints (``model.save_weights("ckpt/ckpt")``, ``tf.train.Checkpoint``): the reader."""

from __future__ import annotations

from pathlib import Path

from ...model import ArtifactFormat
from ..base import ContainerKind, Probe, Reader, ReadResult


class CheckpointReader(Reader):
    """A folder with a ``checkpoint`` state file, a prefix (``ckpt`` beside ``ckpt.index``), the
    ``.index`` itself or a data file beside it."""

    name = ArtifactFormat.TF_CHECKPOINT

    def matches(self, probe: Probe) -> bool:
        path = probe.path
        if probe.kind == ContainerKind.DIRECTORY:
            return probe.has_file("checkpoint")
        if probe.kind == ContainerKind.MISSING:
            from .prefix import index_path

            return index_path(path).exists()
        if probe.kind == ContainerKind.OTHER:
            return path.name.endswith(".index") or (".data-" in path.name and _beside_index(path))
        return False

    def read(self, probe: Probe) -> ReadResult:
        # Imported here: the TF machinery costs start-up time for every .h5 and .keras file.
        from .cells import to_result
        from .contents import read_checkpoint

        return to_result(read_checkpoint(probe.path))


def _beside_index(data_file: Path) -> bool:
    return data_file.with_name(data_file.name[: data_file.name.index(".data-")] + ".index").exists()
