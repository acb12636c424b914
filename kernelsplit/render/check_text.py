"""``check --format text``: a rich table per run, for humans (colour only on a terminal)."""

from __future__ import annotations

from typing import IO

from ..check.engine import CheckReport
from .check_base import display_path
from .console import make_console

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


class TextReporter:
    name = "text"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        from rich.markup import escape
        from rich.table import Table

        console = make_console(file=stream)
        if report.findings:
            table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            for column in ("severity", "code", "artifact", "layer", "part\\[gate]", "message"):
                table.add_column(column, overflow="fold")
            for f in report.findings:
                where = f"{f.part}[{f.gate}]" if f.part and f.gate else (f.part or "")
                table.add_row(
                    f"[{_STYLE[f.severity]}]{f.severity}[/]",
                    f"{f.code} {f.rule}",
                    escape(display_path(f.path)),
                    escape(f.layer or ""),
                    escape(where),
                    escape(f.detail),
                )
            console.print(table)
        counts = report.counts
        verdict = {
            0: "[green]passed[/]",
            1: "[bold red]failed[/]",
            2: "[bold red]unreadable input[/]",
            3: "[yellow]no model file found[/]",
        }[report.exit_code]
        console.print(
            f"kernelsplit check {verdict}: {len(report.artifacts)} artifact(s), "
            f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info, "
            f"{len(report.errors)} unreadable (failing at {report.fail_on})"
        )
