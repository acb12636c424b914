"""Find recurrent cells among a layer's tensors by their shapes, when no config describes them.

A cell is a kernel (..., G·u) followed by a recurrent kernel (..., u, G·u) of the same rank,
optionally followed by a bias: (G·u,), (2, G·u) (GRU reset_after) or (2·G·u,) (CuDNN). Keras 0.x
and 1.x cells are (W, U, b) triples per gate, named ``*_W_i`` ... or, in 0.x, ``param_n``.
Weight names are used only as hints to keep a Dense kernel from passing for a recurrent one.
"""

from __future__ import annotations

import re

from ..layouts import GATE_COUNT_TO_KIND, LAYOUTS
from .base import CellRecord, StoredTensor

#: A Keras 0.x/1.x per-gate weight name: ``lstm_1_W_i``, ``gru_2_U_z:0``...
PER_GATE_NAME = re.compile(r"(?:^|[_/])([WUb])_([icfozrh])(?::\d+)?$")
#: Cells Keras 1 stored per gate, told apart by the gates in their names (ConvLSTM2D is named like
#: an LSTM: its kernels' rank tells it apart later).
_PER_GATE_PATTERNS = {kind: LAYOUTS[kind].keras1_storage_order for kind in ("lstm", "gru")}


def _per_gate_run(tensors: list[StoredTensor], start: int) -> tuple[str, int] | None:
    """A Keras 0.x/1.x run of per-gate (W, U, b) triples starting at ``start``."""
    for kind, gates in _PER_GATE_PATTERNS.items():
        count = 3 * len(gates)
        run = tensors[start : start + count]
        if len(run) < count:
            continue
        named = [PER_GATE_NAME.search(t.name) for t in run]
        if all(named):
            if [m.group(2) for m in named[::3]] == list(gates) and all(
                m.group(1) == "WUb"[k % 3] for k, m in enumerate(named)
            ):
                return kind, count
            continue
        if any(t.name and not t.name.startswith("param_") for t in run):
            continue
        units = run[1].shape[-1] if run[1].array.ndim == 2 else None
        if units and all(
            run[k].shape[-1] == units and run[k + 1].shape == (units, units) and run[k + 2].shape == (units,)
            for k in range(0, count, 3)
        ):
            return kind, count
    return None


def _fused_run(tensors: list[StoredTensor], start: int) -> int | None:
    if start + 1 >= len(tensors):
        return None
    kernel, recurrent = tensors[start], tensors[start + 1]
    if kernel.array.ndim < 2 or recurrent.array.ndim != kernel.array.ndim:
        return None
    units = recurrent.shape[-2]
    if units == 0 or recurrent.shape[-1] != kernel.shape[-1] or recurrent.shape[-1] % units:
        return None
    gates = recurrent.shape[-1] // units
    if kernel.array.ndim == 2 and gates not in GATE_COUNT_TO_KIND:
        return None
    if kernel.array.ndim > 2 and (gates != 4 or kernel.shape[:-2] != recurrent.shape[:-2]):
        return None
    names = (kernel.name.lower(), recurrent.name.lower())
    informative = all(names) and not any(n.isdigit() for n in names)
    if informative and not re.search(r"recurrent|(?:^|[_/])u(?::\d+)?$|param_", names[1]):
        return None  # two named kernels, neither recurrent: e.g. consecutive Dense layers
    width = gates * units
    if start + 2 < len(tensors):
        bias = tensors[start + 2]
        if bias.shape in ((width,), (2, width), (2 * width,)):
            return 3
    return 2


def infer_cells(layer_name: str, tensors: list[StoredTensor]) -> list[CellRecord]:
    """Every cell found in ``tensors`` (one layer's weights, in stored order)."""
    found: list[tuple[list[StoredTensor], str | None]] = []
    index = 0
    while index < len(tensors):
        per_gate = _per_gate_run(tensors, index)
        if per_gate:
            _kind, count = per_gate
            found.append((tensors[index : index + count], "keras1"))
            index += count
            continue
        fused = _fused_run(tensors, index)
        if fused:
            found.append((tensors[index : index + fused], None))
            index += fused
            continue
        index += 1
    records = []
    for position, (weights, storage) in enumerate(found):
        direction = None
        label = weights[0].name.lower()
        if len(found) == 2 and ("forward" in label or "backward" in label):
            direction = "forward" if "forward" in label else "backward"
        name = layer_name
        if direction:
            name = f"{layer_name}/{direction}"
        elif len(found) > 1:
            name = f"{layer_name}/cell_{position}"
        records.append(
            CellRecord(
                name=name,
                class_name="",
                kind=None,
                weights=weights,
                direction=direction,
                inferred=True,
                storage=storage,
                notes=["no stored config: cell kind and units inferred from tensor shapes"],
            )
        )
    return records
