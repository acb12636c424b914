"""``check --format text``: a rich table per run, for humans (colour only on a terminal)."""

from __future__ import annotations

from typing import IO

from ...check.engine import CheckReport, Verdict
from ..console import make_console
from ..paths import display_path
from . import CheckReporter

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_VERDICT = {
    Verdict.PASSED: "[green]passed[/]",
    Verdict.FAILED: "[bold red]failed[/]",
    Verdict.UNREADABLE: "[bold red]unreadable input[/]",
    Verdict.NO_INPUT: "[yellow]no model file found[/]",
}


class CheckTextReporter(CheckReporter):
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
                table.add_row(
                    f"[{_STYLE[f.severity]}]{f.severity}[/]",
                    f"{f.code} {f.rule}",
                    escape(display_path(f.path)),
                    escape(f.layer or ""),
                    escape(f.block),
                    escape(f.detail),
                )
            console.print(table)
        counts = report.counts
        console.print(
            f"kernelsplit check {_VERDICT[report.verdict]}: {len(report.artifacts)} artifact(s), "
            f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info, "
            f"{len(report.errors)} unreadable (failing at {report.fail_on})"
        )
