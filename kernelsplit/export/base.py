"""The data every layout produces and every writer consumes.

A layout turns selected layers into :class:`ExportGroup` s (one per file for container formats:
a layer in the keras layout, a PyTorch module or an ONNX node otherwise), each holding named
:class:`ExportedArray` s. Arrays keep the *stored* bytes (bfloat16 as its raw uint16 words), and
conversions only reorder, transpose, stack and zero-fill, so no value is ever re-computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from ..model import GateTensor, RecurrentLayer, array_sha256


@dataclass(frozen=True)
class ExportedArray:
    #: Key inside its group: ``kernel.f`` (keras), ``weight_ih_l0`` (pytorch), ``W`` (onnx).
    name: str
    layer: str
    direction: str | None
    #: The Keras part it holds (for onnx ``B``: ``bias``, the input half then the recurrent half).
    part: str
    #: The single gate of a keras-layout block; ``None`` for fused target tensors.
    gate: str | None
    #: Gate blocks in order along the gate axis (Keras gate letters), for fused target tensors.
    gate_order: tuple[str, ...] | None
    #: The stored bytes: bfloat16 stays as raw uint16 words so digests are byte-exact.
    array: np.ndarray = field(repr=False, compare=False)
    #: Element type name: float32, float16, float64 or bfloat16.
    dtype: str
    #: True when (part of) the array is zeros that Keras does not store (e.g. an LSTM's bias_hh).
    zero_filled: bool = False
    #: Where the array was read (stored tensor + slice), for a single keras-layout block.
    source: str | None = field(default=None, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.array.shape)

    @cached_property
    def sha256(self) -> str:
        return array_sha256(self.array)

    def values(self) -> np.ndarray:
        """The array as numbers: bfloat16 words widened (exactly) to float32."""
        return stored_to_values(self.array, self.dtype)


@dataclass
class ExportGroup:
    """What goes into one container file: a layer, a PyTorch module or an ONNX node."""

    name: str
    cell: str
    units: int
    layers: list[RecurrentLayer]
    arrays: list[ExportedArray]
    #: How to use the arrays: the torch module and its kwargs, the ONNX op and its attributes.
    target: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WriteContext:
    """What a writer may say about where its arrays come from (the C header's provenance comment)."""

    group: ExportGroup
    layout: str
    source_name: str
    source_sha256: str


@dataclass(frozen=True)
class Refusal:
    layer: str
    reason: str


class Layout(Protocol):
    """A target layout: selected (layer, gate tensors) pairs in, groups (or refusals) out."""

    name: str

    def groups(
        self, chosen: list[tuple[RecurrentLayer, list[GateTensor]]]
    ) -> tuple[list[ExportGroup], list[Refusal]]: ...


def stored_to_values(array: np.ndarray, dtype: str) -> np.ndarray:
    """Numbers for a stored array; bfloat16 words become the float32 with the same top 16 bits."""
    if dtype == "bfloat16":
        return (np.asarray(array, dtype="<u2").astype("<u4") << 16).view("<f4")
    return np.asarray(array)
