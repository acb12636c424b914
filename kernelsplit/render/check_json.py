"""``check --format json``: schema ``kernelsplit.check/1`` (kernelsplit/schemas/check-1.json).

Additive changes keep the version; renaming or removing a field bumps it.
"""

from __future__ import annotations

import json
from typing import IO, Any

from .._version import __version__
from ..check.engine import CheckReport
from ..check.rules import RULES, Finding
from .inspect_json import error_object
from .jsonutil import jsonable

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
    }


def report_dict(report: CheckReport) -> dict[str, Any]:
    config = report.config
    rules = []
    for rule in RULES:
        rules.append(
            {
                "code": rule.code,
                "name": rule.name,
                "summary": rule.summary,
                "default_severity": rule.default_severity,
                "severity": config.severity.get(rule.code, rule.default_severity),
                "enabled": rule.code not in config.ignore,
                "thresholds": {t.key: config.thresholds.get(t.key, t.default) for t in rule.thresholds},
            }
        )
    artifacts = [
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
        },
        "rules": rules,
        "artifacts": artifacts,
        "findings": [finding_dict(f) for f in report.findings],
    }


class JsonReporter:
    name = "json"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        stream.write(json.dumps(jsonable(report_dict(report)), indent=2, allow_nan=False) + "\n")
