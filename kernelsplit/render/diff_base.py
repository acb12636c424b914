"""One interface for every ``diff`` output format (same shape as check_base)."""

from __future__ import annotations

import importlib
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..analysis.diff import DiffReport, TensorDiff

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


def describe_change(t: TensorDiff, arrow: str = "→") -> str:
    """What changed in one gate block, for the human formats (the status column says that it did)."""
    if t.status == "shape-changed":
        return f"shape {list(t.old_shape or ())} {arrow} {list(t.new_shape or ())}"
    if t.dtype_changed:
        return f"dtype {t.old_dtype} {arrow} {t.new_dtype}"
    return "values" if t.status == "changed" else t.status
