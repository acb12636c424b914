"""``diff --output-format text``: what changed, for people (colour only on a terminal).

The two paths head the report (never wrapped); then one aligned row per change (layer, status,
part[gate], relative change, max |Δ|, what changed), wrapping only the last column at spaces; then
the breaking changes and the verdict.
"""

from __future__ import annotations

from typing import IO, Any

from ...analysis.diff import DiffReport, DiffVerdict
from ..console import make_console, output_width
from ..layout import MIN_MESSAGE, cell_width, file_text, paragraph, rows, wrap_text
from ..paths import display_path
from . import DiffReporter, describe_change, fmt, summary_line

_STYLE = {
    "identical": "green",
    "equivalent": "green",
    "changed": "yellow",
    "added": "cyan",
    "removed": "bold red",
    "shape-changed": "bold red",
    "config": "yellow",
}


class DiffTextReporter(DiffReporter):
    name = "text"

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        from rich.text import Text

        console = make_console(file=stream)
        width = output_width(stream)
        lines: list[Any] = []
        if not self.quiet:
            lines.append(
                file_text(display_path(report.old.path), style="bold")
                + Text(" -> ")
                + file_text(display_path(report.new.path), style="bold")
            )
        table, notes = self._table(report, numbers_apart=True)
        lead = sum(max(cell_width(row[i]) for row in table) + 2 for i in range(len(table[0]) - 1))
        if width is not None and lead > width - MIN_MESSAGE:  # too narrow: the numbers join the message
            table, notes = self._table(report, numbers_apart=False)
        if len(table) > 1:
            for row_lines, row_notes in zip(rows(table, width), notes, strict=True):
                lines += row_lines
                for label, style, reason in row_notes:  # why a layer is equivalent, or is not: under its row
                    first, *rest = paragraph(f"{label}: {reason}", width, indent=4)
                    lines.append(Text("    ") + Text(label, style=style) + Text(first.plain[4 + len(label) :]))
                    lines += rest
        if report.verdict == DiffVerdict.IDENTICAL and not self.quiet:
            lines.append(Text("identical", style="green") + Text(": every gate block has the same digest"))
        elif report.verdict == DiffVerdict.EQUIVALENT and not self.quiet:
            lines.append(
                Text("equivalent", style="green")
                + Text(": stored differently, but every layer computes the same function")
            )
        for reason in report.breaking:
            for i, line in enumerate(paragraph(reason, width, indent=10)):
                lines.append(Text("breaking: ", style="bold red") + Text(line.plain[10:]) if i == 0 else line)
        if not self.quiet:
            lines += wrap_text(Text(summary_line(report)), width, indent=4)
        for line in lines:
            console.print(line, soft_wrap=True)

    def _table(
        self, report: DiffReport, *, numbers_apart: bool
    ) -> tuple[list[list[Any]], list[list[tuple[str, str, str]]]]:
        """One row per change: layer, status, part[gate], (rel. change, max |Δ|,) what changed; and
        per row the notes printed under it: (label, style, text)."""
        from rich.text import Text

        headers = ["layer", "status", "part[gate]"] + (["rel. change", "max |Δ|"] if numbers_apart else [])
        table: list[list[Any]] = [[*(Text(h, style="bold") for h in headers), "change"]]
        notes: list[list[tuple[str, str, str]]] = [[]]
        blank = ["", ""] if numbers_apart else []

        def add(row: list[Any], reasons: list[tuple[str, str, str]] | None = None) -> None:
            table.append(row)
            notes.append(reasons or [])

        for layer in report.layers:
            name = file_text(layer.name)
            if layer.status != "changed":
                if layer.status != "identical" or not self.quiet:
                    why = [("why", "green", reason) for reason in layer.reasons]
                    add([name, Text(layer.status, style=_STYLE[layer.status]), "", *blank, ""], why)
                continue
            if layer.reasons:
                label = "not equivalent"
                why = [(label, "yellow", reason) for reason in layer.reasons]
                add([name, Text(label, style=_STYLE["changed"]), "", *blank, ""], why)
            for key, a, b in layer.config_changes:
                add([name, Text("config", style=_STYLE["config"]), file_text(key), *blank, f"{a!r} -> {b!r}"])
            for t in layer.tensors:
                if t.status == "identical":
                    continue
                what = describe_change(t, "->")
                row = [name, Text(t.status, style=_STYLE.get(t.status, "yellow")), file_text(t.block)]
                if numbers_apart:
                    row += [Text(fmt(t.relative_change)), Text(fmt(t.max_abs_change))]
                elif t.relative_change is not None:
                    what += f" (rel. change {fmt(t.relative_change)}, max |Δ| {fmt(t.max_abs_change)})"
                add([*row, what])
        return table, notes
