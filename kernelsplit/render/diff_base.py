"""One interface for every ``diff`` output format (same shape as check_base)."""

from __future__ import annotations

import importlib
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..analysis.diff import DiffReport

DIFF_REPORTERS = {
    "text": "diff_text:TextDiffReporter",
    "json": "diff_json:JsonDiffReporter",
    "markdown": "diff_markdown:MarkdownDiffReporter",
    "github": "diff_github:GithubDiffReporter",
}


class DiffReporter(Protocol):
    name: str

    def write(self, report: DiffReport, stream: IO[str]) -> None: ...


def reporter(name: str) -> DiffReporter:
    module, cls = DIFF_REPORTERS[name].split(":")
    return getattr(importlib.import_module(f"kernelsplit.render.{module}"), cls)()


def number(value: float | None) -> float | None:
    """JSON-safe: inf / nan become None (the status field still says "changed")."""
    import math

    return None if value is None or not math.isfinite(value) else value


def fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3g}"
