"""``check --format markdown``: a job-summary table (also appended to ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from typing import IO

from ..check.engine import CheckReport
from .check_base import display_path

_ICON = {"error": "❌ error", "warning": "⚠️ warning", "info": "ℹ️ info"}


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(report: CheckReport) -> str:
    counts = report.counts
    status = {0: "passed", 1: "failed", 2: "could not read every file", 3: "found no model file"}
    lines = [
        f"## kernelsplit check: {status[report.exit_code]}",
        "",
        f"{len(report.artifacts)} artifact(s) checked; **{counts['error']}** error(s), "
        f"**{counts['warning']}** warning(s), {counts['info']} info; failing at `{report.fail_on}`.",
        "",
    ]
    if report.findings:
        lines += ["| severity | rule | artifact | layer | part[gate] | message |", "|---|---|---|---|---|---|"]
        for f in report.findings:
            where = f"{f.part}[{f.gate}]" if f.part and f.gate else (f.part or "")
            lines.append(
                f"| {_ICON[f.severity]} | `{f.code}` {f.rule} | `{cell(display_path(f.path))}` | "
                f"{cell(f.layer or '')} | {cell(where)} | {cell(f.detail)} |"
            )
        lines.append("")
    if report.errors:
        lines += ["### Unreadable files", ""]
        lines += [f"- `{cell(display_path(p))}`: {cell(e.message)}" for p, e in report.errors]
        lines.append("")
    return "\n".join(lines)


class MarkdownReporter:
    name = "markdown"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        stream.write(render(report) + "\n")
