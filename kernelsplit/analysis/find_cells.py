"""Find recurrent cells among tensors no config describes, by their shapes.

A cell is a kernel (..., G·u) followed by a recurrent kernel (..., u, G·u) of the same rank,
optionally followed by a bias: (G·u,), (2, G·u) (GRU reset_after) or (2·G·u,) (CuDNN). Keras 0.x
and 1.x cells are (W, U, b) triples per gate, named ``*_W_i`` ... or, in 0.x, ``param_n``.
Weight names are used only as hints to keep a Dense kernel from passing for a recurrent one.
:func:`per_gate_kind` is the one rule for per-gate storage, used here and by the classifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..layouts import CELL_LAYOUTS, GATE_COUNT_TO_KIND, KERAS1_WEIGHT_NAME
from ..readers.base import StoredTensor, WeightGroup

#: Cells Keras 1 stored per gate: kind -> its gates (ConvLSTM2D is named like an LSTM; its
#: kernels' rank tells it apart in the classifier).
_PER_GATE_KINDS = {kind: set(CELL_LAYOUTS[kind].gates) for kind in ("lstm", "gru")}


@dataclass(frozen=True)
class Candidate:
    """One cell found by shape: its tensors, and the per-gate kind if they are Keras 0.x/1.x triples."""

    name: str
    tensors: list[StoredTensor]
    direction: str | None
    per_gate_kind: str | None


def per_gate_kind(tensors: list[StoredTensor]) -> str | None:
    """The cell kind whose Keras 0.x/1.x (W, U, b)-per-gate storage ``tensors`` are, or None.

    Named tensors must cover every (role, gate) of one kind exactly once (``lstm_1_W_i`` ...);
    nameless or numbered ones (Keras 0.x ``param_n``) must repeat (in, u), (u, u), (u,).
    """
    count = len(tensors)
    kind = {12: "lstm", 9: "gru"}.get(count)
    if kind is None:
        return None
    names = [t.name for t in tensors]
    numbered = all(not n or n.isdigit() or n.startswith("param_") for n in names)
    if not numbered:
        matches = [KERAS1_WEIGHT_NAME.search(n) for n in names]
        if not all(matches):
            return None
        roles = {(m.group(1), m.group(2)) for m in matches if m}
        gates = {gate for _, gate in roles}
        if gates == _PER_GATE_KINDS[kind] and len(roles) == count:
            return kind
        return None
    if tensors[1].ndim != 2:
        return None
    units = tensors[1].shape[-1]
    triples = all(
        tensors[k].shape[-1] == units and tensors[k + 1].shape == (units, units) and tensors[k + 2].shape == (units,)
        for k in range(0, count, 3)
    )
    return kind if triples else None


def _fused_run(tensors: list[StoredTensor], start: int) -> int | None:
    if start + 1 >= len(tensors):
        return None
    kernel, recurrent = tensors[start], tensors[start + 1]
    if kernel.ndim < 2 or recurrent.ndim != kernel.ndim:
        return None
    units = recurrent.shape[-2]
    if units == 0 or recurrent.shape[-1] != kernel.shape[-1] or recurrent.shape[-1] % units:
        return None
    gates = recurrent.shape[-1] // units
    if kernel.ndim == 2 and gates not in GATE_COUNT_TO_KIND:
        return None
    if kernel.ndim > 2 and (gates != 4 or kernel.shape[:-2] != recurrent.shape[:-2]):
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


def find_cells(group: WeightGroup) -> list[Candidate]:
    """Every cell in a group no config describes (one owner's weights, in stored order)."""
    tensors = group.tensors
    found: list[tuple[list[StoredTensor], str | None]] = []
    index = 0
    while index < len(tensors):
        run = next(
            ((count, kind) for count in (12, 9) if (kind := per_gate_kind(tensors[index : index + count]))),
            None,
        )
        if run:
            count, kind = run
            found.append((tensors[index : index + count], kind))
            index += count
            continue
        fused = _fused_run(tensors, index)
        if fused:
            found.append((tensors[index : index + fused], None))
            index += fused
            continue
        index += 1
    if group.hint_source is not None:  # a v3 store group: its path names it and its direction
        return [Candidate(group.name, weights, group.direction, kind) for weights, kind in found]
    candidates = []
    for position, (weights, kind) in enumerate(found):
        direction = None
        label = weights[0].name.lower()
        if len(found) == 2 and ("forward" in label or "backward" in label):
            direction = "forward" if "forward" in label else "backward"
        name = group.name
        if direction:
            name = f"{group.name}/{direction}"
        elif len(found) > 1:
            name = f"{group.name}/cell_{position}"
        candidates.append(Candidate(name, weights, direction, kind))
    return candidates
