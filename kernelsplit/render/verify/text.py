"""``verify`` for terminals and CI logs: a line per Keras layer, then the summary."""

from __future__ import annotations

from typing import IO

from ...verify import FileCheck, LayerCheck, VerifyReport
from ..explain.common import safe
from . import VerifyReporter, summary


class VerifyTextReporter(VerifyReporter):
    name = "text"

    def write(self, report: VerifyReport, file: IO[str]) -> None:
        for checked in report.files:
            if checked.status in ("ok", "mismatch"):
                _file(checked, file)
        counts = summary(report)
        worst = counts["worst_forward_error"]
        worst_text = f"{worst:.2g}" if isinstance(worst, float) else "-"
        file.write(
            f"verify: {counts['files']} file(s): {counts['ok']} ok, {counts['mismatch']} mismatched, "
            f"{counts['not_loaded']} not loaded by Keras, {counts['error']} unreadable; {counts['layers']} "
            f"layer(s), {counts['bit_exact']} bit-exact; worst forward error {worst_text} (seed {report.seed})\n"
        )


def _file(checked: FileCheck, file: IO[str]) -> None:
    versions = ", ".join(f"{name} {version}" for name, version in checked.versions.items())
    file.write(f"{safe(checked.path)}  {checked.status}  (loaded by {versions})\n")
    rows = [_row(layer) for layer in checked.layers]
    header = ("keras layer", "class", "kernelsplit layers", "weights", "forward max |Δ|", "verdict")
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))] if rows else []
    if rows:
        file.write("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip() + "\n")
    for row, layer in zip(rows, checked.layers, strict=True):
        file.write("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
        for problem in layer.problems:
            file.write(f"    mismatch: {safe(problem)}\n")
        for diff in layer.differences:
            ours, theirs = (diff.kernelsplit_sha256 or "absent")[:16], (diff.keras_sha256 or "absent")[:16]
            file.write(f"    {safe(diff.layer)} {diff.part}[{diff.gate}]: kernelsplit {ours}  keras {theirs}\n")
    for name in checked.unmatched:
        file.write(f"  mismatch: kernelsplit reports {safe(name)}, which Keras does not hold\n")


def _row(layer: LayerCheck) -> tuple[str, ...]:
    weights = "bit-exact" if layer.bit_exact else f"{len(layer.differences)}/{layer.blocks} differ"
    error = f"{layer.forward_error:.2g}" if layer.forward_error is not None else "-"
    return (
        safe(layer.keras_layer),
        safe(layer.class_name),
        safe(", ".join(layer.kernelsplit_layers) or "-"),
        weights,
        f"{error} ({layer.compute_dtype})",
        "ok" if layer.ok else "MISMATCH",
    )
