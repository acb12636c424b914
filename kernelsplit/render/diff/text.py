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
        table = self._table(report, numbers_apart=True)
        lead = sum(max(cell_width(row[i]) for row in table) + 2 for i in range(len(table[0]) - 1))
        if width is not None and lead > width - MIN_MESSAGE:  # too narrow: the numbers join the message
            table = self._table(report, numbers_apart=False)
        if len(table) > 1:
            lines += [line for row in rows(table, width) for line in row]
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

    def _table(self, report: DiffReport, *, numbers_apart: bool) -> list[list[Any]]:
        """One row per change: layer, status, part[gate], (rel. change, max |Δ|,) what changed."""
        from rich.text import Text

        headers = ["layer", "status", "part[gate]"] + (["rel. change", "max |Δ|"] if numbers_apart else [])
        table: list[list[Any]] = [[*(Text(h, style="bold") for h in headers), "change"]]
        for layer in report.layers:
            name = file_text(layer.name)
            blank = ["", ""] if numbers_apart else []
            if layer.status != "changed":
                if layer.status != "identical" or not self.quiet:
                    status = Text(layer.status, style=_STYLE[layer.status])
                    table.append([name, status, "", *blank, ""])
                    for reason in layer.reasons:  # why an equivalent layer computes the same function
                        table.append(["", "", "", *blank, reason])
                continue
            for reason in layer.reasons:
                table.append([name, Text("not equivalent", style=_STYLE["changed"]), "", *blank, reason])
            for key, a, b in layer.config_changes:
                config = Text("config", style=_STYLE["config"])
                table.append([name, config, file_text(key), *(["", ""] if numbers_apart else []), f"{a!r} -> {b!r}"])
            for t in layer.tensors:
                if t.status == "identical":
                    continue
                what = describe_change(t, "->")
                row = [name, Text(t.status, style=_STYLE.get(t.status, "yellow")), file_text(t.block)]
                if numbers_apart:
                    row += [Text(fmt(t.relative_change)), Text(fmt(t.max_abs_change))]
                elif t.relative_change is not None:
                    what += f" (rel. change {fmt(t.relative_change)}, max |Δ| {fmt(t.max_abs_change)})"
                table.append([*row, what])
        return table
