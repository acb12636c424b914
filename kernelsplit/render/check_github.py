"""``check --format github``: GitHub Actions workflow commands (``::error file=...::message``)."""

from __future__ import annotations

from typing import IO

from ..check.engine import CheckReport
from .check_base import display_path

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, path: str, title: str, message: str) -> str:
    return (
        f"::{level} file={escape_property(display_path(path))},title={escape_property(title)}::{escape_data(message)}"
    )


class GithubReporter:
    name = "github"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        for path, error in report.errors:
            stream.write(annotation("error", path, "kernelsplit: unreadable", error.message) + "\n")
        for f in report.findings:
            stream.write(annotation(_LEVEL[f.severity], f.path, f"{f.code} {f.rule}", f.short_message) + "\n")
        counts = report.counts
        stream.write(
            f"kernelsplit check: {len(report.artifacts)} artifact(s), {counts['error']} error(s), "
            f"{counts['warning']} warning(s), {counts['info']} info, "
            f"{len(report.errors)} unreadable\n"
        )
