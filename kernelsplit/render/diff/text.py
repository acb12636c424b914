"""``diff --output-format text``: what changed, for people (colour only on a terminal).

The two paths head the report (never wrapped); then one aligned row per change (layer, status,
part[gate], relative change, max |Δ|, what changed), wrapping only the last column at spaces; then
the breaking changes and the verdict.
"""

from __future__ import annotations

from typing import IO, Any

from ...analysis.diff import DiffReport, DiffVerdict
from ..console import make_console, output_width
from ..layout import file_text, paragraph, rows
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
        headers = ("layer", "status", "part[gate]", "rel. change", "max |Δ|")
        table: list[list[Any]] = [[*(Text(h, style="bold") for h in headers), "change"]]
        for layer in report.layers:
            name = file_text(layer.name)
            if layer.status != "changed":
                if layer.status != "identical" or not self.quiet:
                    table.append([name, Text(layer.status, style=_STYLE[layer.status]), "", "", "", ""])
                    for reason in layer.reasons:  # why an equivalent layer computes the same function
                        table.append(["", "", "", "", "", reason])
                continue
            for reason in layer.reasons:
                table.append([name, Text("not equivalent", style=_STYLE["changed"]), "", "", "", reason])
            for key, a, b in layer.config_changes:
                table.append([name, Text("config", style=_STYLE["config"]), file_text(key), "", "", f"{a!r} -> {b!r}"])
            for t in layer.tensors:
                if t.status == "identical":
                    continue
                table.append(
                    [
                        name,
                        Text(t.status, style=_STYLE.get(t.status, "yellow")),
                        file_text(t.block),
                        Text(fmt(t.relative_change)),
                        Text(fmt(t.max_abs_change)),
                        describe_change(t, "->"),
                    ]
                )
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
            lines.append(Text(summary_line(report)))
        for line in lines:
            console.print(line, soft_wrap=True)
