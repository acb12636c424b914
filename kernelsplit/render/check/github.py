"""``check --format github``: GitHub Actions workflow commands (``::error file=...::message``)."""

from __future__ import annotations

from typing import IO

from ...check.engine import CheckReport, CheckResult
from ...check.rules import Finding
from ...discover import skip_summary
from ..github import annotation
from . import CheckReporter

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


class CheckGithubReporter(CheckReporter):
    """Annotations; streamed, each file's findings come as it is checked and unreadable files last."""

    name = "github"
    streams = True

    def write_file(self, report: CheckReport, result: CheckResult, stream: IO[str]) -> None:
        self._findings(result.findings, stream)
        stream.flush()

    def write_end(self, report: CheckReport, stream: IO[str]) -> None:
        self._errors(report, stream)
        self._rest(report, stream)

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        self._errors(report, stream)
        self._findings(report.findings, stream)
        self._rest(report, stream)

    def _errors(self, report: CheckReport, stream: IO[str]) -> None:
        for path, error in report.errors:
            stream.write(annotation("error", path, "kernelsplit: unreadable", error.message) + "\n")

    def _findings(self, findings: list[Finding], stream: IO[str]) -> None:
        for f in findings:
            message = f.short_message + (f"\n{f.help}" if f.help else "")
            stream.write(annotation(_LEVEL[f.severity], f.path, f"{f.code} {f.rule}", message) + "\n")

    def _rest(self, report: CheckReport, stream: IO[str]) -> None:
        for item in skip_summary(report.skipped)[0]:
            stream.write(annotation("notice", item.path, "kernelsplit: skipped", item.reason) + "\n")
        counts = report.counts
        stream.write(
            f"kernelsplit check: {len(report.artifacts)} artifact(s), {counts['error']} error(s), "
            f"{counts['warning']} warning(s), {counts['info']} info, "
            f"{len(report.errors)} unreadable, {len(report.skipped)} skipped\n"
        )
