"""``check --format json``: schema ``kernelsplit.check/1`` (kernelsplit/schemas/check-1.json).

Additive changes keep the version; renaming or removing a field bumps it.
"""

from __future__ import annotations

from typing import IO, Any

from ..._version import __version__
from ...check.engine import CheckReport
from ...check.rules import Finding
from ...jsonutil import dumps_indented, error_object
from . import CheckReporter

SCHEMA = "kernelsplit.check/1"


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "rule": finding.rule,
        "severity": finding.severity,
        "path": finding.path,
        "layer": finding.layer,
        "part": finding.part,
        "gate": finding.gate,
        "message": finding.message,
        "detail": finding.detail,
        "value": finding.value,
        "threshold": finding.threshold,
        "units": list(finding.units) if finding.units else None,
        "help": finding.help,
    }


def report_dict(report: CheckReport) -> dict[str, Any]:
    config = report.config
    rules = [
        {
            "code": s.rule.code,
            "name": s.rule.name,
            "summary": s.rule.summary,
            "default_severity": s.rule.default_severity,
            "severity": s.severity,
            "enabled": s.enabled,
            "thresholds": s.thresholds,
            "sources": s.sources,
        }
        for s in report.settings
    ]
    artifacts: list[dict[str, Any]] = [
        {"path": a.path, "format": a.format, "keras_version": a.keras_version, "layers": len(a.layers), "error": None}
        for a in report.artifacts
    ]
    artifacts += [
        {"path": p, "format": "unknown", "keras_version": None, "layers": 0, "error": error_object(e)}
        for p, e in report.errors
    ]
    return {
        "schema": SCHEMA,
        "kernelsplit_version": __version__,
        "config": str(config.path) if config.path else None,
        "fail_on": report.fail_on,
        "exit_code": report.exit_code,
        "summary": {
            **report.counts,
            "artifacts": len(report.artifacts),
            "unreadable": len(report.errors),
            "failing": len(report.failing),
            "skipped": len(report.skipped),
        },
        "rules": rules,
        "artifacts": artifacts,
        "findings": [finding_dict(f) for f in report.findings],
        "skipped": [{"path": s.path, "kind": s.kind, "reason": s.reason} for s in report.skipped],
        "statistics": [
            {"code": code, "rule": name, "severity": severity, "count": n}
            for code, name, severity, n in report.statistics
        ],
    }


class CheckJsonReporter(CheckReporter):
    name = "json"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        stream.write(dumps_indented(report_dict(report)) + "\n")
