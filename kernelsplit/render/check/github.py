"""``check --format github``: GitHub Actions workflow commands (``::error file=...::message``)."""

from __future__ import annotations

from typing import IO

from ...check.engine import CheckReport
from ...discover import skip_summary
from ..github import annotation
from . import CheckReporter

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


class CheckGithubReporter(CheckReporter):
    name = "github"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        for path, error in report.errors:
            stream.write(annotation("error", path, "kernelsplit: unreadable", error.message) + "\n")
        for f in report.findings:
            message = f.short_message + (f"\n{f.help}" if f.help else "")
            stream.write(annotation(_LEVEL[f.severity], f.path, f"{f.code} {f.rule}", message) + "\n")
        for item in skip_summary(report.skipped)[0]:
            stream.write(annotation("notice", item.path, "kernelsplit: skipped", item.reason) + "\n")
        counts = report.counts
        stream.write(
            f"kernelsplit check: {len(report.artifacts)} artifact(s), {counts['error']} error(s), "
            f"{counts['warning']} warning(s), {counts['info']} info, "
            f"{len(report.errors)} unreadable, {len(report.skipped)} skipped\n"
        )
