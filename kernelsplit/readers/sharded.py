"""Sharded Keras 3 weights: ``<base>.weights.json`` + ``<base>_NNNNN.weights.h5`` shards."""

from __future__ import annotations

from pathlib import Path

from ..errors import NotAModelError
from .base import ReadResult


def read_sharded(path: Path) -> ReadResult:
    raise NotAModelError("JSON file that is not a Keras sharded-weights index")
