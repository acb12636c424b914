"""``diff --format markdown``: a job-summary table (also appended to ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from typing import IO

from ...analysis.diff import DiffReport, DiffVerdict
from ..markdown import cell
from ..paths import display_path
from . import DiffReporter, describe_change, fmt

_TITLE = {
    DiffVerdict.IDENTICAL: "identical",
    DiffVerdict.EQUIVALENT: "equivalent",
    DiffVerdict.CHANGED: "changed",
    DiffVerdict.BREAKING: "breaking changes",
}


def render(report: DiffReport) -> str:
    old, new = display_path(report.old.path), display_path(report.new.path)
    verdict = _TITLE[report.verdict]
    lines = [f"## kernelsplit diff: {verdict}", "", f"`{cell(old)}` → `{cell(new)}`", ""]
    if report.breaking:
        lines += ["**Breaking:**", ""] + [f"- {cell(r)}" for r in report.breaking] + [""]
    lines += ["| layer | status | part[gate] | change | ‖Δ‖/‖old‖ | max \\|Δ\\| |", "|---|---|---|---|---|---|"]
    for layer in report.layers:
        if layer.status in ("identical", "equivalent", "added", "removed"):
            why = "; ".join(layer.reasons)
            lines.append(f"| {cell(layer.name)} | {layer.status} | | {cell(why)} | | |")
            continue
        for reason in layer.reasons:
            lines.append(f"| {cell(layer.name)} | changed | | {cell(reason)} | | |")
        for key, a, b in layer.config_changes:
            lines.append(f"| {cell(layer.name)} | changed | config `{cell(key)}` | {cell(a)} → {cell(b)} | | |")
        for t in layer.tensors:
            if t.status == "identical":
                continue
            what = describe_change(t)
            lines.append(
                f"| {cell(layer.name)} | changed | {t.block} | {cell(what)} | "
                f"{fmt(t.relative_change)} | {fmt(t.max_abs_change)} |"
            )
    return "\n".join(lines) + "\n"


class DiffMarkdownReporter(DiffReporter):  # --quiet does not apply: the summary is the report
    name = "markdown"

    def write(self, report: DiffReport, stream: IO[str]) -> None:
        stream.write(render(report))
