"""``check --output-format gitlab``: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array of issues in the subset of the Code Climate spec GitLab reads
(https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format): ``description``,
``check_name`` (the rule code), ``fingerprint`` (stable per finding: rule, path, layer, part, gate),
``severity`` (``info`` | ``minor`` | ``major`` | ``critical`` | ``blocker``) and ``location``
(``path`` relative to the working folder, ``lines.begin`` 1: a model file has no lines). Unreadable
files are ``critical`` issues named ``kernelsplit/<error code>``.
"""

from __future__ import annotations

import hashlib
from typing import IO, Any

from ...check.engine import CheckReport
from ...jsonutil import dumps_indented
from ..paths import display_path
from . import CheckReporter

#: kernelsplit severity -> GitLab severity.
SEVERITY = {"error": "major", "warning": "minor", "info": "info"}
UNREADABLE = "critical"


def _fingerprint(*parts: str | None, seen: set[str]) -> str:
    text = "\0".join(p or "" for p in parts)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    n = 1
    while digest in seen:  # the same finding twice in one file: keep fingerprints unique
        n += 1
        digest = hashlib.sha256(f"{text}\0{n}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    seen.add(digest)
    return digest


def issues(report: CheckReport) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for f in report.findings:
        path = display_path(f.path)
        description = f"{f.code} {f.rule}: {f.short_message}"
        issue: dict[str, Any] = {
            "description": description,
            "check_name": f.code,
            "fingerprint": _fingerprint(f.code, path, f.layer, f.part, f.gate, seen=seen),
            "severity": SEVERITY[f.severity],
            "location": {"path": path, "lines": {"begin": 1}},
            "categories": ["Bug Risk"],
            "type": "issue",
        }
        if f.help:
            issue["content"] = {"body": f.help}
        out.append(issue)
    for raw, error in report.errors:
        path = display_path(raw)
        out.append(
            {
                "description": f"unreadable: {error.message}",
                "check_name": f"kernelsplit/{error.code}",
                "fingerprint": _fingerprint("unreadable", path, error.code, seen=seen),
                "severity": UNREADABLE,
                "location": {"path": path, "lines": {"begin": 1}},
                "categories": ["Bug Risk"],
                "type": "issue",
            }
        )
    return out


class CheckGitlabReporter(CheckReporter):
    name = "gitlab"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        stream.write(dumps_indented(issues(report)) + "\n")
