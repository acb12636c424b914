"""``check --format markdown``: a job-summary table (also appended to ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from typing import IO

from ...check.engine import CheckReport, Verdict
from ...discover import skip_summary
from ..markdown import cell
from ..paths import display_path
from . import CheckReporter

_ICON = {"error": "❌ error", "warning": "⚠️ warning", "info": "ℹ️ info"}
_STATUS = {
    Verdict.PASSED: "passed",
    Verdict.FAILED: "failed",
    Verdict.UNREADABLE: "could not read every file",
    Verdict.NO_INPUT: "found no model file",
}


def render(report: CheckReport, *, quiet: bool = False, statistics: bool = False) -> str:
    counts = report.counts
    lines = [
        f"## kernelsplit check: {_STATUS[report.verdict]}",
        "",
        f"{len(report.artifacts)} artifact(s) checked; **{counts['error']}** error(s), "
        f"**{counts['warning']}** warning(s), {counts['info']} info; failing at `{report.fail_on}`.",
        "",
    ]
    if statistics:
        if report.statistics:
            lines += ["| count | rule | severity |", "|---:|---|---|"]
            lines += [f"| {n} | `{code}` {name} | {_ICON[sev]} |" for code, name, sev, n in report.statistics]
            lines.append("")
    elif report.findings:
        lines += ["| severity | rule | artifact | layer | part[gate] | message |", "|---|---|---|---|---|---|"]
        for f in report.findings:
            lines.append(
                f"| {_ICON[f.severity]} | `{f.code}` {f.rule} | `{cell(display_path(f.path))}` | "
                f"{cell(f.layer or '')} | {cell(f.block)} | {cell(f.detail)}"
                + (f"<br>_{cell(f.help)}_" if f.help and not quiet else "")
                + " |"
            )
        lines.append("")
    if report.errors:
        lines += ["### Unreadable files", ""]
        lines += [f"- `{cell(display_path(p))}`: {cell(e.message)}" for p, e in report.errors]
        lines.append("")
    listed, counted = skip_summary(report.skipped)
    if (listed or counted) and not quiet:
        lines += ["### Skipped", ""]
        lines += [f"- `{cell(display_path(s.path))}`: {cell(s.reason)}" for s in listed]
        lines += [f"- {cell(text)}" for text in counted]
        lines.append("")
    return "\n".join(lines)


class CheckMarkdownReporter(CheckReporter):
    name = "markdown"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        stream.write(render(report, quiet=self.quiet, statistics=self.statistics) + "\n")
