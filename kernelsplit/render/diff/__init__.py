"""``diff`` reporters: one per format behind one base class (as for ``check``)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from .. import load

if TYPE_CHECKING:
    from ...analysis.diff import DiffReport, TensorDiff

#: format name -> "module:Class" (imported only when used).
REPORTERS = {
    "text": "text:DiffTextReporter",
    "json": "json:DiffJsonReporter",
    "markdown": "markdown:DiffMarkdownReporter",
    "github": "github:DiffGithubReporter",
}


class DiffReporter:
    name: str

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        raise NotImplementedError


def reporter(name: str) -> DiffReporter:
    cls: type[DiffReporter] = load(REPORTERS, __name__, name)
    return cls()


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
