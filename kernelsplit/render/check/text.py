"""``check --output-format text``: findings grouped by file, for people (colour only on a terminal).

Each file's path is a line of its own (never wrapped, so a CI log stays greppable); under it one
aligned row per finding (severity, code and rule, layer, part[gate], message) whose message wraps
at spaces to the terminal's width; a finding that crossed a configurable threshold says how to
change it. Then the files skipped, the unreadable ones, and the verdict.
"""

from __future__ import annotations

from dataclasses import replace
from typing import IO, Any

from ...check.engine import CheckReport, CheckResult, Verdict
from ...discover import skip_summary
from ..console import make_console, output_width
from ..layout import file_text, paragraph, rows, wrap_text
from ..paths import display_path
from . import CheckReporter

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_VERDICT_STYLE = {
    Verdict.PASSED: ("passed", "green"),
    Verdict.FAILED: ("failed", "bold red"),
    Verdict.UNREADABLE: ("unreadable input", "bold red"),
    Verdict.NO_INPUT: ("no model file found", "yellow"),
}


def verdict_line(report: CheckReport) -> Any:
    from rich.text import Text

    word, style = _VERDICT_STYLE[report.verdict]
    counts = report.counts
    skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
    line = Text("kernelsplit check ")
    line.append(word, style=style)
    line.append(
        f": {len(report.artifacts)} artifact(s), {counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['info']} info, {len(report.errors)} unreadable{skipped} (failing at {report.fail_on})"
    )
    return line


class CheckTextReporter(CheckReporter):
    name = "text"
    streams = True

    def write_file(self, report: CheckReport, result: CheckResult, stream: IO[str]) -> None:
        """The file's findings, or (unless ``--quiet``) a line saying it is clean, so a long run
        shows every file as it is checked."""
        console = make_console(file=stream)
        if result.findings:
            for line in self._findings(replace(report, findings=result.findings), output_width(stream)):
                console.print(line, soft_wrap=True)
        elif result.artifact is not None and not self.quiet:  # laid out like a file with findings
            layers = len(result.artifact.layers)
            console.print(file_text(display_path(result.path), style="dim"), soft_wrap=True)
            console.print(f"  ok: {layers} recurrent layer{'s' if layers != 1 else ''}, no findings", style="dim")

    def write_end(self, report: CheckReport, stream: IO[str]) -> None:
        if self.quiet:
            return
        console = make_console(file=stream)
        width = output_width(stream)
        for line in [*self._skipped_and_unreadable(report, width), *wrap_text(verdict_line(report), width, indent=4)]:
            console.print(line, soft_wrap=True)

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        from rich.text import Text

        console = make_console(file=stream)
        width = output_width(stream)
        lines: list[Any] = []
        if self.statistics:
            table = [
                [Text(str(n), style="bold"), Text(code), Text(severity, style=SEVERITY_STYLE[severity]), name]
                for code, name, severity, n in report.statistics
            ]
            lines += [line for row in rows(table, width) for line in row]
        else:
            lines += self._findings(report, width)
        if not self.quiet:
            lines += self._skipped_and_unreadable(report, width)
            lines += wrap_text(verdict_line(report), width, indent=4)
        for line in lines:
            console.print(line, soft_wrap=True)

    def _findings(self, report: CheckReport, width: int | None) -> list[Any]:
        from rich.text import Text

        table = [
            [
                Text(f.severity, style=SEVERITY_STYLE[f.severity]),
                Text(f"{f.code} {f.rule}"),
                file_text(f.layer or ""),
                file_text(f.block),
                f.detail,
            ]
            for f in report.findings
        ]
        lines: list[Any] = []
        current = None
        for finding, row_lines in zip(report.findings, rows(table, width, indent=2), strict=True):
            if finding.path != current:
                current = finding.path
                lines.append(file_text(display_path(finding.path), style="bold"))
            lines += row_lines
            if finding.help and not self.quiet:
                lines += paragraph("help: " + finding.help, width, indent=4, style="dim")
        return lines

    def _skipped_and_unreadable(self, report: CheckReport, width: int | None) -> list[Any]:
        from rich.text import Text

        listed, counted = skip_summary(report.skipped)
        lines: list[Any] = []
        for item in listed:
            line = Text("skipped ", style="dim")
            line.append_text(file_text(display_path(item.path)))
            line.append(f": {item.reason}", style="dim")
            lines.append(line)
        lines += [Text(text, style="dim") for text in counted]
        for path, error in report.errors:
            line = Text("unreadable ", style="bold red")
            line.append_text(file_text(display_path(path)))
            line.append(f": {error.message}")
            lines.append(line)
        return lines
