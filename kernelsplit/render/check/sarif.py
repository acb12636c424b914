"""``check --format sarif``: SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, IDEs).

``ruleId`` is the stable code (KS101...), rule metadata sits in ``tool.driver.rules`` with the
docstring as ``fullDescription``; artifact URIs are relative to the working folder (base id
``%SRCROOT%``), or absolute ``file://`` URIs for files outside it. Unreadable files become
``toolExecutionNotifications`` and ``executionSuccessful: false``; skipped files are notifications
of level ``note`` (one per file that looked like a model, one per reason with a count for the rest).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from ..._version import __version__
from ...check.engine import CheckReport
from ...check.rules import Rule
from ...discover import skip_summary
from ...jsonutil import dumps_indented
from ..paths import display_path
from . import CheckReporter

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
INFORMATION_URI = "https://github.com/kernelsplit/kernelsplit#kernelsplit-check"


def artifact_location(path: str) -> dict[str, str]:
    shown = display_path(path)
    if os.path.isabs(shown):
        return {"uri": Path(shown).as_uri()}
    return {"uri": quote(shown), "uriBaseId": "%SRCROOT%"}


def help_text(rule: Rule) -> str:
    return rule.description() + "\n\nHow to change it:\n" + "\n".join(f"- {line}" for line in rule.how_to_change())


def help_markdown(rule: Rule) -> str:
    doc = rule.doc()
    parts = [f"**{rule.code} {rule.name}**: {doc.what}", doc.why]
    if doc.measured:
        parts.append(f"**Threshold.** {doc.measured}")
    parts.append("**How to change it.**\n\n" + "\n".join(f"- {line}" for line in rule.how_to_change()))
    return "\n\n".join(parts)


def sarif_dict(report: CheckReport) -> dict[str, Any]:
    rules = [
        {
            "id": s.rule.code,
            "name": "".join(w.capitalize() for w in s.rule.name.split("-")),
            "shortDescription": {"text": s.rule.summary},
            "fullDescription": {"text": s.rule.description()},
            "help": {"text": help_text(s.rule), "markdown": help_markdown(s.rule)},
            "helpUri": f"{INFORMATION_URI}-{s.rule.code.lower()}",
            "defaultConfiguration": {"level": _LEVEL[s.severity], "enabled": s.enabled},
            "properties": {"kernelsplit-name": s.rule.name, "thresholds": s.thresholds},
        }
        for s in report.settings
    ]
    index = {s.rule.code: i for i, s in enumerate(report.settings)}
    paths = [a.path for a in report.artifacts] + [p for p, _ in report.errors]
    artifact_index = {p: i for i, p in enumerate(dict.fromkeys(paths))}
    results = []
    for f in report.findings:
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {**artifact_location(f.path), "index": artifact_index[f.path]}}
        }
        if f.layer is not None:
            name = f.layer + (f"/{f.block}" if f.block else "")
            location["logicalLocations"] = [{"fullyQualifiedName": name, "kind": "member"}]
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _LEVEL[f.severity],
            "message": {"text": f.short_message},
            "locations": [location],
            "properties": {"severity": f.severity},
        }
        if f.value is not None:
            result["properties"]["value"] = f.value
        if f.threshold is not None:
            result["properties"]["threshold"] = f.threshold
        if f.help:
            result["properties"]["help"] = f.help
        results.append(result)
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{display_path(p)}: {e.message}"},
            "locations": [{"physicalLocation": {"artifactLocation": artifact_location(p)}}],
            "properties": {"code": e.code},
        }
        for p, e in report.errors
    ]
    listed, counted = skip_summary(report.skipped)
    notifications += [
        {
            "level": "note",
            "message": {"text": f"skipped {display_path(item.path)}: {item.reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": artifact_location(item.path)}}],
            "properties": {"code": "skipped", "kind": item.kind},
        }
        for item in listed
    ]
    notifications += [
        {"level": "note", "message": {"text": text}, "properties": {"code": "skipped"}} for text in counted
    ]
    cwd_uri = Path(os.getcwd()).as_uri().rstrip("/") + "/"
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kernelsplit",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": cwd_uri}},
        "artifacts": [{"location": artifact_location(p)} for p in artifact_index],
        "invocations": [
            {
                "executionSuccessful": not report.errors,
                "exitCode": report.exit_code,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


class CheckSarifReporter(CheckReporter):
    name = "sarif"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        stream.write(dumps_indented(sarif_dict(report)) + "\n")
