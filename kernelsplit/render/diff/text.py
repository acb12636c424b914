"""``diff --format text``: a rich table of what changed, for humans."""

from __future__ import annotations

from typing import IO

from ...analysis.diff import DiffReport, DiffVerdict
from ..console import make_console
from ..paths import display_path
from . import DiffReporter, describe_change, fmt

_STYLE = {
    "identical": "green",
    "equivalent": "green",
    "changed": "yellow",
    "added": "cyan",
    "removed": "bold red",
    "shape-changed": "bold red",
}


class DiffTextReporter(DiffReporter):
    name = "text"

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        from rich.markup import escape
        from rich.table import Table

        console = make_console(file=stream)
        console.print(f"{escape(display_path(report.old.path))} -> {escape(display_path(report.new.path))}")
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("layer", "status", "part\\[gate]", "change", "rel. change", "max |Δ|"):
            table.add_column(column)
        for layer in report.layers:
            style = _STYLE[layer.status]
            if layer.status != "changed":
                table.add_row(escape(layer.name), f"[{style}]{layer.status}[/]", "", "", "", "")
                for reason in layer.reasons:  # why an equivalent layer computes the same function
                    table.add_row("", "", "", escape(reason), "", "")
                continue
            for reason in layer.reasons:
                table.add_row(escape(layer.name), f"[{style}]not equivalent[/]", "", escape(reason), "", "")
            for key, a, b in layer.config_changes:
                table.add_row(escape(layer.name), f"[{style}]config[/]", escape(key), escape(f"{a!r} -> {b!r}"), "", "")
            for t in layer.tensors:
                if t.status == "identical":
                    continue
                what = describe_change(t, "->")
                table.add_row(
                    escape(layer.name),
                    f"[{_STYLE.get(t.status, style)}]{t.status}[/]",
                    escape(t.block),
                    escape(what),
                    fmt(t.relative_change),
                    fmt(t.max_abs_change),
                )
        console.print(table)
        if report.verdict == DiffVerdict.IDENTICAL:
            console.print("[green]identical[/]: every gate block has the same digest")
        elif report.verdict == DiffVerdict.EQUIVALENT:
            console.print("[green]equivalent[/]: stored differently, but every layer computes the same function")
        for reason in report.breaking:
            console.print(f"[bold red]breaking[/]: {escape(reason)}")
