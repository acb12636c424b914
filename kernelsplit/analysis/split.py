"""Split a reader's CellRecord into canonical gate blocks (the layouts table decides the order).

Three storages reach this point (FORMATS.md §0, §3):

* ``fused``  — Keras 2/3: kernel (..., G·u), recurrent_kernel (..., u, G·u), bias (G·u,) or (2, G·u);
* ``keras1`` — Keras 0.x/1.x: one (W, U, b) triple per gate, stored in the order of
  ``PER_GATE_STORAGE_ORDER``;
* ``cudnn``  — CuDNNLSTM/CuDNNGRU: fused shapes, but each input block holds a (u, in) row-major
  matrix, each recurrent block is transposed, and the bias is (2·G·u,) = input half | recurrent half.

Blocks are numpy views of the stored arrays whenever the storage allows it, so the digest of a
block is the digest of stored bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CorruptFileError, UnsupportedError
from ..layouts import CLASS_TO_KIND, GATE_COUNT_TO_KIND, LAYOUTS
from ..model import GateTensor, Mismatch, RecurrentLayer
from ..readers.base import CellRecord, StoredTensor
from ..readers.inference import PER_GATE_NAME

#: Keras 0.x/1.x per-gate storage order of the (W, U, b) triples, from the layout table.
PER_GATE_STORAGE_ORDER: dict[str, tuple[str, ...]] = {
    kind: layout.keras1_storage_order for kind, layout in LAYOUTS.items() if layout.keras1_storage_order
}


@dataclass(frozen=True)
class _Block:
    part: str
    gate: str
    array: np.ndarray
    path: str
    #: The block's slice of the stored tensor (``[:, 4:8]``); empty when it is the whole tensor.
    selection: str
    dtype: str
    raw: np.ndarray | None


def _slice_label(ndim: int, lead: str, start: int, stop: int) -> str:
    if ndim == 1:
        return f"[{start}:{stop}]"
    if lead:
        return f"[{lead}, {start}:{stop}]"
    return "[" + ", ".join([":"] * (ndim - 1) + [f"{start}:{stop}"]) + "]"


def _split_last_axis(
    part: str, tensor: StoredTensor, gates: tuple[str, ...], units: int, lead_index: int | None = None, offset: int = 0
) -> list[_Block]:
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
            _Block(
                part=part,
                gate=gate,
                array=array[..., start:stop],
                path=tensor.source,
                selection=_slice_label(tensor.array.ndim, lead, start, stop),
                dtype=tensor.dtype,
                raw=raw[..., start:stop] if raw is not None else None,
            )
        )
    return blocks


def _kind_from_config(record: CellRecord) -> str | None:
    if record.kind:
        return record.kind
    return CLASS_TO_KIND.get(record.class_name)


def _looks_per_gate(weights: list[StoredTensor]) -> bool:
    """9 or 12 tensors stored as (W, U, b) per gate: by their names, or by shape when nameless."""
    if len(weights) not in (9, 12):
        return False
    names = [w.name for w in weights]
    if all(names) and not any(n.isdigit() or n.startswith("param_") for n in names):
        return all(PER_GATE_NAME.search(n) for n in names)
    # Keras 0.x (param_n) or numbered: (in, u), (u, u), (u,) repeated.
    return all(weights[k + 1].array.ndim == 2 and weights[k + 2].array.ndim == 1 for k in range(0, len(weights), 3))


def _units_and_gates(recurrent: StoredTensor, record: CellRecord) -> tuple[int, int]:
    shape = recurrent.shape
    if len(shape) < 2 or shape[-2] == 0 or shape[-1] % shape[-2]:
        raise CorruptFileError(
            f"layer {record.name}: recurrent kernel {recurrent.source} has shape {shape}, not (..., units, gates*units)"
        )
    return shape[-2], shape[-1] // shape[-2]


def _inferred_class(kind: str, storage: str) -> str:
    """``inferred:LSTM``, ``inferred:CuDNNGRU``... for cells no stored config names."""
    base = LAYOUTS[kind].classes[0]
    if storage == "cudnn":
        base = f"CuDNN{base}"
    elif storage == "keras1":
        base = f"{base}(keras1-per-gate)"
    return f"inferred:{base}"


#: CuDNN kernels compute one fixed function whatever the config says (FORMATS.md §3.2, §6).
CUDNN_MATHS: dict[str, dict[str, object]] = {
    "lstm": {"activation": "tanh", "recurrent_activation": "sigmoid"},
    "gru": {"activation": "tanh", "recurrent_activation": "sigmoid", "reset_after": True},
}


def _with_fixed_maths(config: dict, kind: str, storage: str) -> dict:
    merged = dict(config)
    if storage == "cudnn":
        merged.update(CUDNN_MATHS.get(kind, {}))
    return merged


def build_layer(record: CellRecord) -> RecurrentLayer:
    """Decide storage, kind and units from config and shapes, then cut the gate blocks."""
    weights = record.weights
    config_kind = _kind_from_config(record)
    storage = record.storage
    if storage is None:
        storage = "keras1" if _looks_per_gate(weights) else "fused"
    notes = list(record.notes)
    if storage == "keras1":
        blocks, kind, units = _per_gate_blocks(record, config_kind, notes)
    else:
        blocks, kind, units, storage = _fused_blocks(record, config_kind, storage, notes)
    mismatches = []
    if config_kind and config_kind != kind:
        mismatches.append(
            Mismatch(
                "cell",
                config_kind,
                kind,
                f"config says {record.class_name} ({config_kind}) but the stored shapes are {kind}",
            )
        )
    config_units = record.config.get("units")
    if isinstance(config_units, int) and not isinstance(config_units, bool) and config_units != units:
        mismatches.append(
            Mismatch(
                "units",
                config_units,
                units,
                f"config says units={config_units} but the stored shapes give units={units}",
            )
        )
    stored_reset_after = any(b.part == "recurrent_bias" for b in blocks)
    config_reset_after = record.config.get("reset_after")
    if (
        kind == "gru"
        and storage == "fused"
        and isinstance(config_reset_after, bool)
        and any(b.part == "bias" for b in blocks)
        and config_reset_after != stored_reset_after
    ):
        mismatches.append(
            Mismatch(
                "reset_after",
                config_reset_after,
                stored_reset_after,
                f"config says reset_after={config_reset_after} but the stored bias "
                f"{'has' if stored_reset_after else 'lacks'} a recurrent row",
            )
        )
    notes += [m.message for m in mismatches]
    input_dim = int(blocks[0].array.shape[-2]) if blocks and blocks[0].part == "kernel" else None
    tensors = [GateTensor(b.part, b.gate, b.array, b.path, b.selection, b.dtype, b.raw) for b in blocks]
    return RecurrentLayer(
        name=record.name,
        class_name=record.class_name or _inferred_class(kind, storage),
        cell=kind,
        units=units,
        direction=record.direction,
        tensors=tensors,
        inferred=record.inferred,
        config=_with_fixed_maths(record.config, kind, storage),
        conversion=None if storage == "fused" else storage,
        notes=notes,
        input_dim=input_dim,
        mismatches=mismatches,
    )


def _fused_blocks(
    record: CellRecord, config_kind: str | None, storage: str, notes: list[str]
) -> tuple[list[_Block], str, int, str]:
    weights = record.weights
    if len(weights) not in (2, 3):
        raise UnsupportedError(
            f"layer {record.name} ({record.class_name}): {len(weights)} stored tensors, "
            "expected kernel, recurrent_kernel and optional bias"
        )
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if len(weights) == 3 else None
    units, n_gates = _units_and_gates(recurrent, record)
    if kernel.array.size == 0:
        raise CorruptFileError(f"layer {record.name}: kernel {kernel.source} is empty {kernel.shape}")
    if kernel.shape[-1] != recurrent.shape[-1] or kernel.array.ndim != recurrent.array.ndim:
        raise CorruptFileError(
            f"layer {record.name}: kernel {kernel.shape} and recurrent kernel {recurrent.shape} "
            "do not belong to one cell"
        )
    if kernel.array.ndim > 2 or config_kind == "conv_lstm":
        kind = "conv_lstm"
    else:
        kind = GATE_COUNT_TO_KIND.get(n_gates, "")
    layout = LAYOUTS.get(kind)
    if layout is None or layout.n_gates != n_gates:
        raise UnsupportedError(f"layer {record.name}: {n_gates} gate blocks of {units} units fit no known cell")
    gates = layout.gates
    bias_kind = None
    if bias is not None:
        width = n_gates * units
        if bias.shape == (width,):
            bias_kind = "single"
        elif bias.shape == (2, width):
            bias_kind = "pair"
        elif bias.shape == (2 * width,):
            bias_kind = "halves"
            storage = "cudnn"
        else:
            raise CorruptFileError(
                f"layer {record.name}: bias {bias.source} has shape {bias.shape}, expected "
                f"({width},), (2, {width}) or ({2 * width},)"
            )
    if storage == "cudnn":
        if kernel.array.ndim != 2:
            raise UnsupportedError(f"layer {record.name}: CuDNN weights with {kernel.array.ndim}-D kernel")
        blocks = _cudnn_matrix_blocks(kernel, recurrent, gates, units)
        notes.append(
            "CuDNN weights: input blocks re-laid out and recurrent blocks transposed as "
            "Keras's loader converts them; sigmoid recurrent activation; both bias halves kept"
        )
    else:
        blocks = _split_last_axis("kernel", kernel, gates, units) + _split_last_axis(
            "recurrent_kernel", recurrent, gates, units
        )
    if bias is not None:
        if bias_kind == "single":
            blocks += _split_last_axis("bias", bias, gates, units)
        elif bias_kind == "pair":
            blocks += _split_last_axis("bias", bias, gates, units, lead_index=0)
            blocks += _split_last_axis("recurrent_bias", bias, gates, units, lead_index=1)
        else:  # CuDNN: input-side half, then recurrent-side half; Keras sums them, we keep both
            blocks += _split_last_axis("bias", bias, gates, units)
            blocks += _split_last_axis("recurrent_bias", bias, gates, units, offset=n_gates * units)
    return blocks, kind, units, storage


def _cudnn_matrix_blocks(
    kernel: StoredTensor, recurrent: StoredTensor, gates: tuple[str, ...], units: int
) -> list[_Block]:
    """CuDNN -> Keras, exactly as Keras's legacy loader converts (FORMATS.md §3.2).

    The stored input block (in, u) is cuDNN's row-major (u, in) matrix, so the Keras block is
    ``block.reshape(u, in).T``; each recurrent (u, u) block is transposed. These are copies, not
    views: the stored bytes of a block are not the Keras block's bytes.
    """
    input_dim = kernel.shape[0]

    def input_block(block: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.ascontiguousarray(block).reshape(units, input_dim).T)

    def recurrent_block(block: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(block.T)

    blocks = []
    for part, tensor, convert in (("kernel", kernel, input_block), ("recurrent_kernel", recurrent, recurrent_block)):
        for index, gate in enumerate(gates):
            start, stop = index * units, (index + 1) * units
            raw = tensor.raw[:, start:stop] if tensor.raw is not None else None
            blocks.append(
                _Block(
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


def _per_gate_blocks(record: CellRecord, config_kind: str | None, notes: list[str]) -> tuple[list[_Block], str, int]:
    weights = record.weights
    n_gates = len(weights) // 3
    kind = config_kind if config_kind in PER_GATE_STORAGE_ORDER else GATE_COUNT_TO_KIND[n_gates]
    if kind == "lstm" and weights[0].array.ndim == 4:
        kind = "conv_lstm"  # Keras 1 ConvLSTM2D without config: 4-D W arrays
    order = PER_GATE_STORAGE_ORDER[kind]
    if len(order) != n_gates:
        raise CorruptFileError(f"layer {record.name}: {len(weights)} per-gate tensors for a {kind} cell")
    by_role: dict[tuple[str, str], StoredTensor] = {}
    for position, tensor in enumerate(weights):
        match = PER_GATE_NAME.search(tensor.name) if tensor.name else None
        if match and match.group(2) in order:
            role = (match.group(1), match.group(2))
        else:
            role = ("WUb"[position % 3], order[position // 3])
        by_role[role] = tensor
    th = kind == "conv_lstm" and _keras1_conv_is_th(record, by_role, order)
    if kind == "conv_lstm":
        units = by_role.get(("b", order[0]), weights[2]).shape[-1]
    else:
        units = by_role.get(("U", order[0]), weights[1]).shape[-1]
    blocks = []
    for part, letter in (("kernel", "W"), ("recurrent_kernel", "U"), ("bias", "b")):
        for gate in LAYOUTS[kind].gates:
            tensor = by_role.get((letter, gate))
            if tensor is None:
                raise CorruptFileError(f"layer {record.name}: no {letter}_{gate} tensor among its weights")
            if th and letter != "b":
                blocks.append(_th_conv_block(part, gate, tensor))
                continue
            if tensor.shape[-1] != units:
                raise CorruptFileError(
                    f"layer {record.name}: {tensor.source} has shape {tensor.shape}, expected last axis {units}"
                )
            blocks.append(_Block(part, gate, tensor.array, tensor.source, "", tensor.dtype, tensor.raw))
    if th:
        notes.append(
            "Keras 1 dim_ordering='th' ConvLSTM2D: each W/U gate array (filters, stack, "
            "rows, cols) transposed (2, 3, 1, 0) into Keras 2's (rows, cols, stack, filters)"
        )
    return blocks, kind, units


#: Keras 1 ConvLSTM2D 'th' -> Keras 2 kernel axes (FORMATS.md §3.1; tf-keras uses the same
#: permutation, but applies it after concatenating the gates, which breaks on th shapes).
_TH_TO_TF = (2, 3, 1, 0)


def _th_conv_block(part: str, gate: str, tensor: StoredTensor) -> _Block:
    """A th gate array as Keras 2 holds it: a transposed copy, not a view of the stored bytes."""

    def convert(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.transpose(array, _TH_TO_TF))

    return _Block(
        part,
        gate,
        convert(tensor.array),
        tensor.source,
        "",
        tensor.dtype,
        convert(tensor.raw) if tensor.raw is not None else None,
    )


def _keras1_conv_is_th(
    record: CellRecord, by_role: dict[tuple[str, str], StoredTensor], order: tuple[str, ...]
) -> bool:
    """Keras 1 ConvLSTM2D orientation: ``dim_ordering`` from the config, else from the shapes.

    th stores W (filters, stack, rows, cols) and U (filters, filters, rows, cols); tf stores
    (rows, cols, stack, filters) and (rows, cols, filters, filters). filters = len(b).
    """
    ordering = record.config.get("dim_ordering")
    if ordering in ("th", "tf"):
        return ordering == "th"
    first = order[0]
    kernel, recurrent, bias = (by_role.get((letter, first)) for letter in "WUb")
    if kernel is None or recurrent is None or bias is None or bias.array.ndim != 1:
        raise CorruptFileError(f"layer {record.name}: incomplete Keras 1 ConvLSTM2D weights")
    filters = bias.shape[0]
    th = recurrent.shape[:2] == (filters, filters) and kernel.shape[0] == filters
    tf = recurrent.shape[2:] == (filters, filters) and kernel.shape[-1] == filters
    if th and tf:
        raise UnsupportedError(
            f"layer {record.name}: Keras 1 ConvLSTM2D weights without config: W {kernel.shape} and "
            f"U {recurrent.shape} fit both dim_ordering 'th' and 'tf'"
        )
    if not (th or tf):
        raise CorruptFileError(
            f"layer {record.name}: Keras 1 ConvLSTM2D W {kernel.shape} / U {recurrent.shape} fit "
            f"neither dim_ordering for {filters} filters"
        )
    return th
