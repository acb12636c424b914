"""``diff --output-format concise``: one line per change, greppable, located in the new file.

``new.keras:enc:recurrent_kernel[f]: changed values (rel. change 0.0312, max |Δ| 0.00213)``, with
`` [breaking: …]`` when the change fails the diff; a last summary line unless ``--quiet``.
"""

from __future__ import annotations

from typing import IO

from ...analysis.diff import DiffReport
from ..paths import display_path
from ..safe import terminal_text
from . import DiffReporter, describe_change, fmt, summary_line


def change_lines(report: DiffReport) -> list[str]:
    new = display_path(report.new.path)
    lines = []
    for layer in report.layers:
        where = f"{new}:{layer.name}"
        if layer.status in ("added", "removed"):
            why = report.breaking_in(layer)
            lines.append(f"{where}: {layer.status}" + (f" [breaking: {why}]" if why else ""))
            continue
        if layer.status == "equivalent":
            lines.append(f"{where}: equivalent" + (f" ({'; '.join(layer.reasons)})" if layer.reasons else ""))
            continue
        told = set()
        for reason in layer.reasons:
            facts = [fact for fact, _, _ in layer.maths_changes if reason.startswith(fact)]
            told.update(facts)
            lines.append(
                f"{where}: not equivalent: {reason}" + (" [breaking: computes another function]" if facts else "")
            )
        for fact, a, b in layer.maths_changes:
            if fact not in told:
                lines.append(f"{where}: {fact} computes {a} -> {b} [breaking: computes another function]")
        for key, a, b in layer.config_changes:
            lines.append(f"{where}: config {key}: {a!r} -> {b!r}")
        for t in layer.tensors:
            if t.status == "identical":
                continue
            numbers = ""
            if t.relative_change is not None:
                numbers = f" (rel. change {fmt(t.relative_change)}, max |Δ| {fmt(t.max_abs_change)})"
            why = report.breaking_in(layer, t)
            lines.append(
                f"{where}:{t.block}: {t.status} {describe_change(t, '->')}{numbers}"
                + (f" [breaking: {why}]" if why else "")
            )
    # Layer names, paths, config values and reasons come from files: one change is one line, shown not obeyed.
    return [terminal_text(line) for line in lines]


class DiffConciseReporter(DiffReporter):
    name = "concise"

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        lines = change_lines(report)
        if not self.quiet:
            lines.append(summary_line(report))
        if lines:
            stream.write("\n".join(lines) + "\n")
