"""Compare two artifacts layer by layer, part by part, gate by gate.

Layers are paired by name (Bidirectional directions are separate layers), then any left over are
paired by content (the same multiset of block digests: a ``.weights.h5`` names layers by class,
a ``.keras`` by the user's names). A block is *identical* when its digest (stored bytes) and dtype
are equal; otherwise it carries the relative Frobenius change ‖new − old‖ / ‖old‖ and the max
absolute change, computed in float64. Config keys stored by only one of the two files are not
changes (formats store different subsets, e.g. tf-keras's ``implementation``).

A layer is *identical* (every block the same bytes, stored the same way, nothing computed
differently), *equivalent* (stored differently but provably the same function, with the reasons:
``analysis/equivalence.py``), *changed*, *added* or *removed*.

Breaking (exit 1): a block's shape changed, a block or a layer disappeared or appeared inside a
layer, a layer disappeared, a drift exceeded ``max_drift``, or a layer's maths computes another
function (an activation resolved differently, ``go_backwards``, ``reset_after``). An equivalent
layer is never breaking; a layer *added* is reported, not breaking.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._compat import StrEnum
from ..exitcodes import ExitCode
from ..model import Artifact, GateTensor, RecurrentLayer
from .equivalence import equivalence


@dataclass
class TensorDiff:
    part: str
    gate: str
    #: identical | changed | shape-changed | added | removed
    status: str
    old_shape: tuple[int, ...] | None = None
    new_shape: tuple[int, ...] | None = None
    old_dtype: str | None = None
    new_dtype: str | None = None
    old_sha256: str | None = None
    new_sha256: str | None = None
    #: ‖new − old‖_F / ‖old‖_F; inf when old is all zeros and new is not; nan with non-finite values.
    relative_change: float | None = None
    max_abs_change: float | None = None

    @property
    def block(self) -> str:
        """``recurrent_kernel[f]``."""
        return f"{self.part}[{self.gate}]"

    @property
    def dtype_changed(self) -> bool:
        return None not in (self.old_dtype, self.new_dtype) and self.old_dtype != self.new_dtype


@dataclass
class LayerDiff:
    name: str
    #: identical | equivalent | changed | added | removed
    status: str
    old_name: str | None = None
    new_name: str | None = None
    old_cell: str | None = None
    new_cell: str | None = None
    config_changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    tensors: list[TensorDiff] = field(default_factory=list)
    #: Why the layer is equivalent, or why it is changed though no block's bytes changed.
    reasons: list[str] = field(default_factory=list)
    #: Maths facts computed differently on the two sides: (fact, old, new); breaking.
    maths_changes: list[tuple[str, str, str]] = field(default_factory=list)
    #: The layers compared (for pictures of the change: ``diff --plot``); None on the missing side.
    old_layer: RecurrentLayer | None = field(default=None, repr=False, compare=False)
    new_layer: RecurrentLayer | None = field(default=None, repr=False, compare=False)

    @property
    def max_relative_change(self) -> float | None:
        values = [t.relative_change for t in self.tensors if t.relative_change is not None]
        return max(values, key=lambda v: math.inf if math.isnan(v) else v) if values else None


class DiffVerdict(StrEnum):
    IDENTICAL = "identical"
    EQUIVALENT = "equivalent"
    CHANGED = "changed"
    BREAKING = "breaking"


@dataclass
class DiffReport:
    old: Artifact
    new: Artifact
    layers: list[LayerDiff]
    max_drift: float | None = None
    #: ``--exit-zero``: breaking changes are reported but exit 0.
    exit_zero: bool = False

    @property
    def identical(self) -> bool:
        return all(layer.status == "identical" for layer in self.layers)

    def drift_exceeded(self, tensor: TensorDiff) -> bool:
        if self.max_drift is None or tensor.status != "changed" or tensor.relative_change is None:
            return False
        return math.isnan(tensor.relative_change) or tensor.relative_change > self.max_drift

    @property
    def breaking(self) -> list[str]:
        """Why the diff fails, one line each (empty: exit 0)."""
        reasons = []
        for layer in self.layers:
            if layer.status == "removed":
                reasons.append(f"layer {layer.name} removed")
                continue
            if layer.status in ("added", "equivalent"):
                continue
            for fact, old, new in layer.maths_changes:
                reasons.append(f"layer {layer.name} {fact} computes {old} -> {new}")
            for t in layer.tensors:
                label = f"layer {layer.name} {t.block}"
                if t.status == "shape-changed":
                    reasons.append(f"{label} shape {list(t.old_shape or ())} -> {list(t.new_shape or ())}")
                elif t.status in ("added", "removed"):
                    reasons.append(f"{label} {t.status}")
                elif self.drift_exceeded(t):
                    reasons.append(f"{label} drift {t.relative_change:.4g} > {self.max_drift:g}")
        return reasons

    @property
    def verdict(self) -> DiffVerdict:
        if self.breaking:
            return DiffVerdict.BREAKING
        if self.identical:
            return DiffVerdict.IDENTICAL
        if all(layer.status in ("identical", "equivalent") for layer in self.layers):
            return DiffVerdict.EQUIVALENT
        return DiffVerdict.CHANGED

    def breaking_in(self, layer: LayerDiff, tensor: TensorDiff | None = None) -> str | None:
        """Why this layer (or one of its blocks) breaks the diff, or None."""
        if tensor is None:
            return "removed" if layer.status == "removed" else None
        if layer.status in ("added", "removed", "equivalent"):
            return None
        if tensor.status == "shape-changed":
            return "shape changed"
        if tensor.status in ("added", "removed"):
            return f"block {tensor.status}"
        if self.drift_exceeded(tensor):
            return f"drift {tensor.relative_change:.4g} > {self.max_drift:g}"
        return None

    @property
    def exit_code(self) -> ExitCode:
        if self.verdict == DiffVerdict.BREAKING and not self.exit_zero:
            return ExitCode.FINDINGS
        return ExitCode.OK


def _norm_change(old: GateTensor, new: GateTensor) -> tuple[float, float]:
    with np.errstate(all="ignore"):  # NaN, Inf and signalling NaNs are expected here: silenced
        a = np.asarray(old.array, dtype=np.float64)
        b = np.asarray(new.array, dtype=np.float64)
        delta = b - a
        max_abs = float(np.max(np.abs(delta))) if delta.size else 0.0
        base = float(np.linalg.norm(a))
        change = float(np.linalg.norm(delta))
    if not (math.isfinite(base) and math.isfinite(change)):
        return math.nan, max_abs if math.isfinite(max_abs) else math.nan
    if base == 0.0:
        return (0.0 if change == 0.0 else math.inf), max_abs
    return change / base, max_abs


def diff_tensor(old: GateTensor | None, new: GateTensor | None, part: str, gate: str) -> TensorDiff:
    if old is None or new is None:
        present = old or new
        assert present is not None
        return TensorDiff(
            part,
            gate,
            "added" if old is None else "removed",
            old_shape=old.shape if old else None,
            new_shape=new.shape if new else None,
            old_dtype=old.dtype if old else None,
            new_dtype=new.dtype if new else None,
            old_sha256=old.sha256 if old else None,
            new_sha256=new.sha256 if new else None,
        )
    result = TensorDiff(part, gate, "identical", old.shape, new.shape, old.dtype, new.dtype, old.sha256, new.sha256)
    if old.shape != new.shape:
        result.status = "shape-changed"
    elif old.sha256 != new.sha256 or old.dtype != new.dtype:
        result.status = "changed"
        result.relative_change, result.max_abs_change = _norm_change(old, new)
    else:
        result.relative_change, result.max_abs_change = 0.0, 0.0
    return result


def _config_changes(old: RecurrentLayer, new: RecurrentLayer) -> list[tuple[str, Any, Any]]:
    changes: list[tuple[str, Any, Any]] = []
    if old.class_name != new.class_name and not (old.inferred or new.inferred):
        changes.append(("class_name", old.class_name, new.class_name))
    if old.cell != new.cell:
        changes.append(("cell", old.cell, new.cell))
    for key in sorted(set(old.config) & set(new.config)):
        if old.config[key] != new.config[key]:
            changes.append((key, old.config[key], new.config[key]))
    if old.units != new.units and not any(key == "units" for key, _, _ in changes):
        changes.append(("units", old.units, new.units))  # stored widths (weights-only files)
    return changes


def diff_layers(old: RecurrentLayer, new: RecurrentLayer) -> LayerDiff:
    keys = [(t.part, t.gate) for t in old.tensors]
    keys += [(t.part, t.gate) for t in new.tensors if (t.part, t.gate) not in keys]
    old_map = {(t.part, t.gate): t for t in old.tensors}
    new_map = {(t.part, t.gate): t for t in new.tensors}
    tensors = [diff_tensor(old_map.get(k), new_map.get(k), *k) for k in keys]
    changes = _config_changes(old, new)
    name = old.name if old.name == new.name else f"{old.name} -> {new.name}"
    found = equivalence(old, new)
    same_bytes = all(t.status == "identical" for t in tensors) and not changes
    stored_alike = old.conversion == new.conversion and (
        old.class_name == new.class_name or old.inferred or new.inferred
    )
    if same_bytes and stored_alike and not found.maths_changes:
        status, reasons = "identical", []
    else:
        status, reasons = ("equivalent" if found.same_function else "changed"), found.reasons
    result = LayerDiff(name, status, old.name, new.name, old.cell, new.cell, changes, tensors, reasons)
    result.maths_changes = found.maths_changes
    result.old_layer, result.new_layer = old, new
    return result


def _digests(layer: RecurrentLayer) -> Counter[str]:
    return Counter(t.sha256 for t in layer.tensors)


def _digest_key(layer: RecurrentLayer) -> frozenset[tuple[str, int]]:
    """The multiset of a layer's block digests, hashable."""
    return frozenset(_digests(layer).items())


def diff_artifacts(old: Artifact, new: Artifact, max_drift: float | None = None) -> DiffReport:
    # Pairing is by dictionary, never layer × layer: both files are untrusted and may hold many layers.
    by_name: dict[tuple[str, Any], list[RecurrentLayer]] = {}
    for candidate in new.layers:
        by_name.setdefault((candidate.name, candidate.direction), []).append(candidate)
    paired: dict[int, RecurrentLayer] = {}
    taken: set[int] = set()
    for layer in old.layers:
        same = by_name.get((layer.name, layer.direction))
        if same:
            match = same.pop(0)
            paired[id(layer)] = match
            taken.add(id(match))
    by_content: dict[frozenset[tuple[str, int]], list[RecurrentLayer]] = {}
    for candidate in new.layers:
        if id(candidate) not in taken:
            by_content.setdefault(_digest_key(candidate), []).append(candidate)
    for layer in old.layers:
        if id(layer) not in paired:
            same = by_content.get(_digest_key(layer))
            if same:
                match = same.pop(0)
                paired[id(layer)] = match
                taken.add(id(match))
    pairs = [(layer, paired[id(layer)]) for layer in old.layers if id(layer) in paired]
    old_left = [layer for layer in old.layers if id(layer) not in paired]
    new_left = [layer for layer in new.layers if id(layer) not in taken]
    layers = [diff_layers(a, b) for a, b in pairs]
    layers += [
        LayerDiff(
            layer.name,
            "removed",
            old_name=layer.name,
            old_cell=layer.cell,
            tensors=[diff_tensor(t, None, t.part, t.gate) for t in layer.tensors],
            old_layer=layer,
        )
        for layer in old_left
    ]
    layers += [
        LayerDiff(
            layer.name,
            "added",
            new_name=layer.name,
            new_cell=layer.cell,
            tensors=[diff_tensor(None, t, t.part, t.gate) for t in layer.tensors],
            new_layer=layer,
        )
        for layer in new_left
    ]
    return DiffReport(old, new, layers, max_drift)
