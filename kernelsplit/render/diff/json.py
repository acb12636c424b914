"""``diff --format json``: schema ``kernelsplit.diff/1`` (kernelsplit/schemas/diff-1.json)."""

from __future__ import annotations

import math
from typing import IO, Any

from ..._version import __version__
from ...analysis.diff import DiffReport, LayerDiff, TensorDiff
from ...jsonutil import dumps_indented, jsonable, number
from . import DiffReporter

SCHEMA = "kernelsplit.diff/1"


def tensor_dict(t: TensorDiff) -> dict[str, Any]:
    return {
        "part": t.part,
        "gate": t.gate,
        "status": t.status,
        "old_shape": list(t.old_shape) if t.old_shape is not None else None,
        "new_shape": list(t.new_shape) if t.new_shape is not None else None,
        "old_dtype": t.old_dtype,
        "new_dtype": t.new_dtype,
        "dtype_changed": t.dtype_changed,
        "old_sha256": t.old_sha256,
        "new_sha256": t.new_sha256,
        "relative_change": number(t.relative_change),
        "relative_change_unbounded": t.relative_change is not None and not math.isfinite(t.relative_change),
        "max_abs_change": number(t.max_abs_change),
    }


def layer_dict(layer: LayerDiff) -> dict[str, Any]:
    return {
        "name": layer.name,
        "status": layer.status,
        "old_name": layer.old_name,
        "new_name": layer.new_name,
        "old_cell": layer.old_cell,
        "new_cell": layer.new_cell,
        "config_changes": [{"key": k, "old": jsonable(a), "new": jsonable(b)} for k, a, b in layer.config_changes],
        "max_relative_change": number(layer.max_relative_change),
        "tensors": [tensor_dict(t) for t in layer.tensors],
        "reasons": list(layer.reasons),
        "maths_changes": [{"fact": f, "old": a, "new": b} for f, a, b in layer.maths_changes],
    }


def report_dict(report: DiffReport) -> dict[str, Any]:
    counts = {s: 0 for s in ("identical", "equivalent", "changed", "added", "removed")}
    for layer in report.layers:
        counts[layer.status] += 1
    return {
        "schema": SCHEMA,
        "kernelsplit_version": __version__,
        "old": {"path": report.old.path, "format": report.old.format},
        "new": {"path": report.new.path, "format": report.new.format},
        "max_drift": report.max_drift,
        "identical": report.identical,
        "verdict": report.verdict.value,
        "exit_code": report.exit_code,
        "breaking": report.breaking,
        "summary": counts,
        "layers": [layer_dict(layer) for layer in report.layers],
    }


class DiffJsonReporter(DiffReporter):
    name = "json"

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        stream.write(dumps_indented(report_dict(report)) + "\n")
