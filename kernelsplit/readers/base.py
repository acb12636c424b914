"""What every reader hands to the analysis layer: cells with their stored tensors, unsplit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class StoredTensor:
    """One tensor as stored in the file."""

    array: np.ndarray
    #: Path of the tensor inside the file (dataset path, zip member + dataset, checkpoint key).
    source: str
    #: Stored dtype name; ``bfloat16`` arrays are decoded to float32 with the words in ``raw``.
    dtype: str
    raw: np.ndarray | None = None
    #: The name Keras gave the weight (hint only: names are not reliable).
    name: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.array.shape)


@dataclass
class CellRecord:
    """One recurrent cell found by a reader, before conversion and splitting."""

    name: str
    class_name: str
    #: Cell kind (``lstm``...) when the config says so; ``None`` asks the analysis to infer it.
    kind: str | None
    weights: list[StoredTensor]
    #: Hyper-parameters from the config (units, activation, reset_after, go_backwards, ...).
    config: dict[str, Any] = field(default_factory=dict)
    direction: str | None = None
    #: True when the cell was not described by a stored config.
    inferred: bool = False
    #: ``fused`` (Keras 2/3), ``keras1`` (per-gate arrays) or ``cudnn``; ``None`` = decide by shapes.
    storage: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ReadResult:
    """A reader's whole answer for one file."""

    format: str
    cells: list[CellRecord]
    keras_version: str | None = None
    backend: str | None = None
    executable_layers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    total_layers: int | None = None
