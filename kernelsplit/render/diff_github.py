"""``diff --format github``: an ``::error`` annotation per breaking change, on the new file."""

from __future__ import annotations

from typing import IO

from ..analysis.diff import DiffReport
from .check_github import annotation


class GithubDiffReporter:
    name = "github"

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        for reason in report.breaking:
            stream.write(annotation("error", report.new.path, "kernelsplit diff", reason) + "\n")
        changed = sum(layer.status == "changed" for layer in report.layers)
        stream.write(
            f"kernelsplit diff: {'identical' if report.identical else f'{changed} layer(s) changed'}, "
            f"{len(report.breaking)} breaking change(s)\n"
        )
