"""The one typed model every reader produces and every renderer, exporter and rule consumes.

Artifact -> RecurrentLayer (one per cell and per Bidirectional direction) -> GateTensor (one per
(part, gate) block). Arrays are numpy views into the stored tensor, in the stored dtype, never
re-computed, so a block's sha256 identifies the stored bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .layouts import LAYOUTS, CellLayout


def array_sha256(array: np.ndarray) -> str:
    """Digest of the bytes in the stored dtype, C order, little-endian: no arithmetic on values."""
    contiguous = np.ascontiguousarray(array)
    little = contiguous.astype(contiguous.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(little.tobytes()).hexdigest()


@dataclass(frozen=True)
class GateTensor:
    """One gate block of one part, e.g. the forget-gate slice of the input kernel."""

    part: str
    gate: str
    array: np.ndarray
    #: The stored tensor the block comes from, e.g. ``model_weights/lstm/lstm/lstm_cell/kernel:0``.
    stored_path: str
    #: The block's slice of it, e.g. ``[:, 8:16]``; empty when the block is a whole stored tensor
    #: (Keras 1 per-gate arrays). CuDNN and Keras 1 ``th`` blocks are re-laid out copies of that
    #: slice (``RecurrentLayer.conversion`` says so).
    selection: str
    #: The stored dtype name (``bfloat16`` is decoded to float32 values for arithmetic).
    dtype: str
    #: The stored words when ``array`` had to be decoded (bfloat16), so digests stay byte-exact.
    raw: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.array.shape)

    @property
    def source(self) -> str:
        """Where the block lives in the file: ``stored_path`` + ``selection``."""
        return self.stored_path + self.selection

    @cached_property
    def sha256(self) -> str:
        return array_sha256(self.stored_bytes_array)

    @property
    def stored_bytes_array(self) -> np.ndarray:
        """The array whose bytes are the stored ones (bfloat16 keeps its raw 16-bit words)."""
        return self.raw if self.raw is not None else self.array

    @cached_property
    def stats(self) -> dict[str, float | int]:
        from .stats import tensor_stats

        return tensor_stats(self.array)


@dataclass(frozen=True)
class Mismatch:
    """The stored config and the stored tensors disagree; kernelsplit cuts by the tensors."""

    key: str  #: ``units``, ``cell`` or ``reset_after``
    config: Any
    stored: Any
    message: str


@dataclass
class RecurrentLayer:
    """One recurrent cell's weights, split into gate blocks."""

    name: str
    class_name: str
    cell: str
    units: int
    direction: str | None
    tensors: list[GateTensor]
    #: True when the cell kind or units came from shapes, not from a stored config.
    inferred: bool = False
    #: Hyper-parameters that change the maths (activation, reset_after, go_backwards, ...), as stored.
    config: dict[str, Any] = field(default_factory=dict)
    #: How the stored tensors were turned into the canonical layout (``keras1-per-gate``, ``cudnn``...).
    conversion: str | None = None
    notes: list[str] = field(default_factory=list)
    input_dim: int | None = None
    #: Where the config contradicts the shapes (also listed in ``notes``).
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def layout(self) -> CellLayout:
        return LAYOUTS[self.cell]

    @property
    def gates(self) -> tuple[str, ...]:
        return self.layout.gates

    @property
    def parts(self) -> list[str]:
        seen: list[str] = []
        for tensor in self.tensors:
            if tensor.part not in seen:
                seen.append(tensor.part)
        return seen

    def tensor(self, part: str, gate: str) -> GateTensor:
        for candidate in self.tensors:
            if candidate.part == part and candidate.gate == gate:
                return candidate
        raise KeyError(f"{self.name} has no {part}[{gate}]")

    def gate_arrays(self, part: str) -> dict[str, np.ndarray]:
        return {t.gate: t.array for t in self.tensors if t.part == part}

    def fused(self, part: str, order: tuple[str, ...] | None = None, stored: bool = False) -> np.ndarray:
        """The part's gate blocks concatenated again, in canonical order or in ``order``.

        ``stored=True`` concatenates the stored words (bfloat16 stays 16-bit) instead of values.
        """
        blocks = [
            (t.stored_bytes_array if stored else t.array)
            for t in (self.tensor(part, gate) for gate in (order or self.gates))
        ]
        return np.concatenate(blocks, axis=-1)


@dataclass
class Artifact:
    """One model file (or SavedModel folder) and the recurrent layers found in it."""

    path: str
    format: str
    keras_version: str | None = None
    backend: str | None = None
    layers: list[RecurrentLayer] = field(default_factory=list)
    #: Layers whose config holds code Keras would run on load (Lambda, custom objects): never run here.
    executable_layers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Number of layers in the stored architecture (None when the file has no config).
    total_layers: int | None = None
    error: Exception | None = None
