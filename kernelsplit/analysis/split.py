"""Cut a classified cell into canonical gate blocks, as ``layouts.py`` orders them.

Nothing is decided here (``classify.py`` did that); this module only cuts:

* ``fused``  — Keras 2/3: blocks are column ranges of the last axis of each stored tensor;
* ``keras1`` — Keras 0.x/1.x: each block is a whole stored (W, U, b) array;
* ``cudnn``  — CuDNNLSTM/CuDNNGRU: each input block holds a (u, in) row-major matrix, each
  recurrent block is transposed, and the bias is (2·G·u,) = input half | recurrent half.

Blocks are numpy views of the stored arrays whenever the storage allows it, so the digest of a
block is the digest of stored bytes. Facts: docs/formats.md, "CuDNN layers" and "Keras 1.x".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..layouts import CELL_LAYOUTS, KERAS1_TH_TO_TF
from ..model import BiasLayout, GateTensor, Part, RecurrentLayer, Storage
from ..readers.base import StoredTensor
from .classify import CellSpec, FusedTensors, PerGateTensors


def split(spec: CellSpec) -> RecurrentLayer:
    """The RecurrentLayer of a classified cell: its gate blocks, maths and provenance."""
    if isinstance(spec.tensors, PerGateTensors):
        blocks = _per_gate_blocks(spec, spec.tensors)
    else:
        blocks = _fused_blocks(spec, spec.tensors)
    input_dim = int(blocks[0].array.shape[-2]) if blocks and blocks[0].part == Part.KERNEL else None
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
    array, raw = tensor.array, tensor.raw
    lead = ""
    if lead_index is not None:
        array = array[lead_index]
        raw = raw[lead_index] if raw is not None else None
        lead = str(lead_index)
    blocks = []
    for index, gate in enumerate(gates):
        start, stop = offset + index * units, offset + (index + 1) * units
        blocks.append(
            GateTensor(
                part=part,
                gate=gate,
                array=array[..., start:stop],
                stored_path=tensor.source,
                selection=_slice_label(tensor.ndim, lead, start, stop),
                dtype=tensor.dtype,
                raw=raw[..., start:stop] if raw is not None else None,
            )
        )
    return blocks


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
    elif spec.bias == BiasLayout.PAIR:
        blocks += _split_last_axis(Part.BIAS, bias, gates, units, lead_index=0)
        blocks += _split_last_axis(Part.RECURRENT_BIAS, bias, gates, units, lead_index=1)
    else:  # CuDNN halves: input side, then recurrent side; Keras sums them, we keep both
        blocks += _split_last_axis(Part.BIAS, bias, gates, units)
        blocks += _split_last_axis(Part.RECURRENT_BIAS, bias, gates, units, offset=len(gates) * units)
    return blocks


def _cudnn_input_block(block: np.ndarray, units: int, input_dim: int) -> np.ndarray:
    """The stored (in, u) block is cuDNN's row-major (u, in) matrix: the Keras block is its transpose."""
    return np.ascontiguousarray(np.ascontiguousarray(block).reshape(units, input_dim).T)


def _cudnn_recurrent_block(block: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(block.T)


def _cudnn_matrix_blocks(
    kernel: StoredTensor, recurrent: StoredTensor, gates: tuple[str, ...], units: int
) -> list[GateTensor]:
    """CuDNN -> Keras, exactly as Keras's legacy loader converts (docs/formats.md, "CuDNN layers").

    These are copies, not views: the stored bytes of a block are not the Keras block's bytes.
    """
    input_dim = kernel.shape[0]
    conversions: tuple[tuple[Part, StoredTensor, Callable[[np.ndarray], np.ndarray]], ...] = (
        (Part.KERNEL, kernel, lambda block: _cudnn_input_block(block, units, input_dim)),
        (Part.RECURRENT_KERNEL, recurrent, _cudnn_recurrent_block),
    )
    blocks = []
    for part, tensor, convert in conversions:
        for index, gate in enumerate(gates):
            start, stop = index * units, (index + 1) * units
            raw = tensor.raw[:, start:stop] if tensor.raw is not None else None
            blocks.append(
                GateTensor(
                    part,
                    gate,
                    convert(tensor.array[:, start:stop]),
                    tensor.source,
                    f"[:, {start}:{stop}]",
                    tensor.dtype,
                    convert(raw) if raw is not None else None,
                )
            )
    return blocks


def _th_conv(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(array, KERAS1_TH_TO_TF))


def _per_gate_blocks(spec: CellSpec, stored: PerGateTensors) -> list[GateTensor]:
    blocks = []
    for part, letter in ((Part.KERNEL, "W"), (Part.RECURRENT_KERNEL, "U"), (Part.BIAS, "b")):
        for gate in CELL_LAYOUTS[spec.kind].gates:
            tensor = stored.by_role[(letter, gate)]
            array, raw = tensor.array, tensor.raw
            if stored.th_conv and letter != "b":  # a transposed copy, not a view of the stored bytes
                array, raw = _th_conv(array), (_th_conv(raw) if raw is not None else None)
            blocks.append(GateTensor(part, gate, array, tensor.source, "", tensor.dtype, raw))
    return blocks
