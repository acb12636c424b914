"""``check --output-format concise``: one finding per line, greppable, like ruff's concise output.

``models/m.h5:enc:recurrent_kernel[f]: KS106 [warning] spectral-norm: spectral norm 612 > 500``

Files skipped that looked like models follow as ``path: skipped: reason`` lines, the other skips
as one count per reason, and the run ends with one summary line (all left out with ``--quiet``).
``--statistics`` prints ``count code [severity] name`` per rule instead of the findings.
"""

from __future__ import annotations

from dataclasses import replace
from typing import IO

from ...check.engine import CheckReport, CheckResult
from ...discover import skip_summary
from ..paths import display_path
from ..safe import terminal_text
from . import CheckReporter, location


def finding_lines(report: CheckReport) -> list[str]:
    """One line per finding; layer names, paths and details come from files, so they are escaped."""
    return [
        terminal_text(
            f"{location(display_path(f.path), f.layer, f.block)}: {f.code} [{f.severity}] {f.rule}: {f.detail}"
        )
        for f in report.findings
    ]


def statistics_lines(report: CheckReport) -> list[str]:
    stats = report.statistics
    width = max((len(str(n)) for *_, n in stats), default=1)
    return [f"{n:>{width}}  {code}  {'[' + severity + ']':<9}  {name}" for code, name, severity, n in stats]


def summary_line(report: CheckReport) -> str:
    counts = report.counts
    skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
    return (
        f"kernelsplit check {report.verdict}: {len(report.artifacts)} artifact(s), {counts['error']} error(s), "
        f"{counts['warning']} warning(s), {counts['info']} info, {len(report.errors)} unreadable{skipped} "
        f"(failing at {report.fail_on})"
    )


class CheckConciseReporter(CheckReporter):
    name = "concise"
    streams = True

    def write_file(self, report: CheckReport, result: CheckResult, stream: IO[str]) -> None:
        lines = finding_lines(replace(report, findings=result.findings))
        if lines:
            stream.write("\n".join(lines) + "\n")
            stream.flush()

    def write_end(self, report: CheckReport, stream: IO[str]) -> None:
        self._end(report, [], stream)

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        self._end(report, statistics_lines(report) if self.statistics else finding_lines(report), stream)

    def _end(self, report: CheckReport, lines: list[str], stream: IO[str]) -> None:
        if not self.quiet:
            listed, counted = skip_summary(report.skipped)
            lines += [terminal_text(f"{display_path(s.path)}: skipped: {s.reason}") for s in listed]
            lines += [terminal_text(line) for line in counted]
            lines.append(summary_line(report))
        if lines:
            stream.write("\n".join(lines) + "\n")
