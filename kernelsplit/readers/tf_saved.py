"""SavedModel folders and TF checkpoints (integration of the TensorBundle reader)."""

from __future__ import annotations

from pathlib import Path

from ..errors import UnsupportedError
from .base import ReadResult


def read_savedmodel_dir(path: Path) -> ReadResult:
    raise UnsupportedError("SavedModel folders are not supported yet")


def read_checkpoint_path(path: Path) -> ReadResult:
    raise UnsupportedError("TF checkpoints are not supported yet")
