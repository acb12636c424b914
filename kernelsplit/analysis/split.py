"""Cut a classified cell into canonical gate blocks, as ``layouts.py`` orders them.

Nothing is decided here (``classify.py`` did that); this module only cuts:

* ``fused``  — Keras 2/3: blocks are column ranges of the last axis of each stored tensor;
* ``keras1`` — Keras 0.x/1.x: each block is a whole stored (W, U, b) array;
* ``cudnn``  — CuDNNLSTM/CuDNNGRU: each input block holds a (u, in) row-major matrix, each
  recurrent block is transposed, and the bias is (2·G·u,) = input half | recurrent half.

Blocks are cuts of the stored tensors (``tensordata.Cut``), read on demand; the blocks of one
stored tensor share one streaming pass for their digests and statistics (``tensordata.BlockSet``).
Where the storage allows, a block's bytes are the stored bytes, so its digest is theirs.
Facts: docs/formats.md, "CuDNN layers" and "Keras 1.x".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..layouts import CELL_LAYOUTS, KERAS1_TH_TO_TF
from ..model import BiasLayout, GateTensor, Part, RecurrentLayer, Storage
from ..readers.base import StoredTensor
from ..tensordata import Block, BlockSet, Cut, grid
from .classify import CellSpec, FusedTensors, PerGateTensors


def split(spec: CellSpec) -> RecurrentLayer:
    """The RecurrentLayer of a classified cell: its gate blocks, maths and provenance."""
    if isinstance(spec.tensors, PerGateTensors):
        blocks = _per_gate_blocks(spec, spec.tensors)
    else:
        blocks = _fused_blocks(spec, spec.tensors)
    input_dim = int(blocks[0].shape[-2]) if blocks and blocks[0].part == Part.KERNEL else None
    return RecurrentLayer(
        name=spec.name,
        class_name=spec.class_name,
        cell=spec.kind,
        units=spec.units,
        direction=spec.direction,
        tensors=blocks,
        inferred=spec.inferred,
        config=dict(spec.config),
        conversion=None if spec.storage == Storage.FUSED else spec.storage,
        notes=list(spec.notes),
        input_dim=input_dim,
        mismatches=list(spec.mismatches),
        maths=spec.maths,
        binding=spec.binding,
        keras_names=spec.keras_names,
    )


class _Cuts:
    """The blocks cut from one stored tensor, which share one :class:`BlockSet` (one streaming pass)."""

    def __init__(self, tensor: StoredTensor) -> None:
        self.tensor = tensor
        self.rows = grid(tensor.shape)[0]
        self.cuts: list[Cut] = []
        self.specs: list[tuple[Part, str, str, tuple[int, ...]]] = []

    def add(self, part: Part, gate: str, cut: Cut, selection: str, shape: tuple[int, ...] | None = None) -> None:
        self.cuts.append(cut)
        self.specs.append((part, gate, selection, shape if shape is not None else cut.shape))

    def columns(self, part: Part, gate: str, start: int, stop: int, lead_index: int | None = None) -> None:
        """A column range of the last axis, over every row or over row ``lead_index`` of a (2, G·u) bias."""
        shape = self.tensor.shape
        if lead_index is None:
            cut = Cut((0, self.rows), (start, stop), (*shape[:-1], stop - start))
        else:
            cut = Cut((lead_index, lead_index + 1), (start, stop), (stop - start,))
        lead = "" if lead_index is None else str(lead_index)
        self.add(part, gate, cut, _slice_label(len(shape), lead, start, stop))

    def tensors(self) -> list[GateTensor]:
        tensor = self.tensor
        blocks = BlockSet(tensor.data, tensor.dtype, self.cuts)
        return [
            GateTensor(part, gate, None, tensor.source, selection, tensor.dtype, block=Block(blocks, index, shape))
            for index, (part, gate, selection, shape) in enumerate(self.specs)
        ]


def _slice_label(ndim: int, lead: str, start: int, stop: int) -> str:
    if ndim == 1:
        return f"[{start}:{stop}]"
    if lead:
        return f"[{lead}, {start}:{stop}]"
    return "[" + ", ".join([":"] * (ndim - 1) + [f"{start}:{stop}"]) + "]"


def _split_last_axis(
    part: Part,
    tensor: StoredTensor,
    gates: tuple[str, ...],
    units: int,
    lead_index: int | None = None,
    offset: int = 0,
) -> list[GateTensor]:
    """Column blocks of the last axis (over every row, or row ``lead_index`` of a (2, G·u) bias),
    sharing one streaming pass."""
    cuts = _Cuts(tensor)
    for index, gate in enumerate(gates):
        start, stop = offset + index * units, offset + (index + 1) * units
        cuts.columns(part, gate, start, stop, lead_index)
    return cuts.tensors()


def _fused_blocks(spec: CellSpec, stored: FusedTensors) -> list[GateTensor]:
    gates, units = CELL_LAYOUTS[spec.kind].gates, spec.units
    if spec.storage == Storage.CUDNN:
        blocks = _cudnn_matrix_blocks(stored.kernel, stored.recurrent, gates, units)
    else:
        blocks = _split_last_axis(Part.KERNEL, stored.kernel, gates, units) + _split_last_axis(
            Part.RECURRENT_KERNEL, stored.recurrent, gates, units
        )
    bias = stored.bias
    if bias is None:
        return blocks
    if spec.bias == BiasLayout.SINGLE:
        blocks += _split_last_axis(Part.BIAS, bias, gates, units)
    elif spec.bias == BiasLayout.PAIR:  # two rows of one small tensor, each cut on its own
        blocks += _split_last_axis(Part.BIAS, bias, gates, units, lead_index=0)
        blocks += _split_last_axis(Part.RECURRENT_BIAS, bias, gates, units, lead_index=1)
    else:  # CuDNN halves: input side, then recurrent side; Keras sums them, we keep both
        blocks += _split_last_axis(Part.BIAS, bias, gates, units)
        blocks += _split_last_axis(Part.RECURRENT_BIAS, bias, gates, units, offset=len(gates) * units)
    return blocks


def _cudnn_matrix_blocks(
    kernel: StoredTensor, recurrent: StoredTensor, gates: tuple[str, ...], units: int
) -> list[GateTensor]:
    """CuDNN -> Keras, exactly as Keras's legacy loader converts (docs/formats.md, "CuDNN layers").

    These are copies, not views: the stored bytes of a block are not the Keras block's bytes, so
    each such block is read whole (memory: one block) and digested after conversion.
    """
    input_dim = kernel.shape[0]

    def input_block(block: np.ndarray) -> np.ndarray:
        """The stored (in, u) block is cuDNN's row-major (u, in) matrix: the Keras block is its transpose."""
        return np.ascontiguousarray(np.ascontiguousarray(block).reshape(units, input_dim).T)

    def recurrent_block(block: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(block.T)

    conversions: tuple[tuple[Part, StoredTensor, Callable[[np.ndarray], np.ndarray]], ...] = (
        (Part.KERNEL, kernel, input_block),
        (Part.RECURRENT_KERNEL, recurrent, recurrent_block),
    )
    blocks = []
    for part, tensor, convert in conversions:
        cuts = _Cuts(tensor)
        rows = tensor.shape[0]
        for index, gate in enumerate(gates):
            start, stop = index * units, (index + 1) * units
            cut = Cut((0, rows), (start, stop), (rows, units), convert)
            cuts.add(part, gate, cut, f"[:, {start}:{stop}]")  # (in, u) and (u, u) after conversion too
        blocks += cuts.tensors()
    return blocks


def _th_conv(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(array, KERAS1_TH_TO_TF))


def _per_gate_blocks(spec: CellSpec, stored: PerGateTensors) -> list[GateTensor]:
    blocks = []
    for part, letter in ((Part.KERNEL, "W"), (Part.RECURRENT_KERNEL, "U"), (Part.BIAS, "b")):
        for gate in CELL_LAYOUTS[spec.kind].gates:
            tensor = stored.by_role[(letter, gate)]
            cuts = _Cuts(tensor)
            whole = Cut((0, cuts.rows), (0, grid(tensor.shape)[1]), tensor.shape)
            if stored.th_conv and letter != "b":  # a transposed copy, not a view of the stored bytes
                shape = tuple(tensor.shape[axis] for axis in KERAS1_TH_TO_TF)
                cuts.add(part, gate, Cut(whole.rows, whole.cols, whole.shape, _th_conv), "", shape)
            else:
                cuts.add(part, gate, whole, "")
            blocks += cuts.tensors()
    return blocks
