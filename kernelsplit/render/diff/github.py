"""``diff --format github``: an ``::error`` annotation per breaking change, on the new file."""

from __future__ import annotations

from typing import IO

from ...analysis.diff import DiffReport, DiffVerdict
from ..github import annotation
from . import DiffReporter


class DiffGithubReporter(DiffReporter):
    name = "github"

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        for reason in report.breaking:
            stream.write(annotation("error", report.new.path, "kernelsplit diff", reason) + "\n")
        changed = sum(layer.status == "changed" for layer in report.layers)
        equivalent = sum(layer.status == "equivalent" for layer in report.layers)
        if report.verdict == DiffVerdict.IDENTICAL:
            summary = "identical"
        elif report.verdict == DiffVerdict.EQUIVALENT:
            summary = f"equivalent ({equivalent} layer(s) stored differently, same function)"
        else:
            summary = f"{changed} layer(s) changed"
        stream.write(f"kernelsplit diff: {summary}, {len(report.breaking)} breaking change(s)\n")
