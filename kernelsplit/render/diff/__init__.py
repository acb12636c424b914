"""``diff`` reporters: one per format behind one base class (as for ``check``)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from .. import load

if TYPE_CHECKING:
    from ...analysis.diff import DiffReport, TensorDiff

#: format name -> "module:Class" (imported only when used).
REPORTERS = {
    "text": "text:DiffTextReporter",
    "concise": "concise:DiffConciseReporter",
    "json": "json:DiffJsonReporter",
    "markdown": "markdown:DiffMarkdownReporter",
    "github": "github:DiffGithubReporter",
}


class DiffReporter:
    name: str

    def __init__(self, *, quiet: bool = False) -> None:
        #: Human formats: only what changed, no header, identical layers or summary line.
        self.quiet = quiet

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        raise NotImplementedError


def reporter(name: str, *, quiet: bool = False) -> DiffReporter:
    cls: type[DiffReporter] = load(REPORTERS, __name__, name)
    return cls(quiet=quiet)


def summary_line(report: DiffReport) -> str:
    counts = {s: 0 for s in ("identical", "equivalent", "changed", "added", "removed")}
    for layer in report.layers:
        counts[layer.status] += 1
    return (
        f"kernelsplit diff {report.verdict}: {counts['changed']} layer(s) changed, {counts['identical']} identical, "
        f"{counts['equivalent']} equivalent, {counts['added']} added, {counts['removed']} removed; "
        f"{len(report.breaking)} breaking change(s)"
    )


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
