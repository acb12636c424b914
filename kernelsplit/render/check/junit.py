"""``check --output-format junit``: a JUnit XML test report (Jenkins, GitLab, Azure DevOps, CircleCI).

The shape of the JUnit XML schema those tools read (Jenkins' ``junit-10.xsd``): ``<testsuites>``
with the totals, one ``<testsuite>`` per artifact (named by its path), and in it one ``<testcase>``
per finding (``classname`` = path, ``name`` = ``CODE rule: layer part[gate]``). A finding at or above
``--fail-on`` is a ``<failure>`` (``type`` = severity); one below passes with the message in
``<system-out>``; an artifact without findings is one passing ``kernelsplit check`` case. An
unreadable file is a testcase with an ``<error>`` (``type`` = error code); skipped files are
``<skipped>`` testcases in a ``skipped`` suite.
"""

from __future__ import annotations

from typing import IO
from xml.etree import ElementTree as ET

from ...check.engine import CheckReport
from ...check.levels import LEVEL_RANK
from ...discover import skip_summary
from ..paths import display_path
from . import CheckReporter


def _suite(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, "testsuite", name=name)


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name, file=classname)


def _xml_text(text: str) -> str:
    """XML 1.0 cannot hold most control characters at all, even escaped: show them as ``\\xNN``."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else f"\\x{ord(c):02x}" for c in text)


def _count(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }
    suite.attrib.update({k: str(v) for k, v in counts.items()})
    suite.set("time", "0")
    return counts


def report_xml(report: CheckReport) -> ET.Element:
    root = ET.Element("testsuites", name="kernelsplit check")
    rank = LEVEL_RANK[report.fail_on]
    by_path: dict[str, ET.Element] = {}
    for artifact in report.artifacts:
        path = display_path(artifact.path)
        by_path[artifact.path] = _suite(root, _xml_text(path))
    for f in report.findings:
        path = _xml_text(display_path(f.path))
        where = _xml_text(f.where)
        case = _case(by_path[f.path], path, f"{f.code} {f.rule}" + (f": {where}" if where else ""))
        body = _xml_text(f.message + (f"\n{f.help}" if f.help else ""))
        if LEVEL_RANK[f.severity] >= rank:
            failure = ET.SubElement(case, "failure", type=f.severity, message=_xml_text(f.detail))
            failure.text = body
        else:
            ET.SubElement(case, "system-out").text = f"{f.severity}: {body}"
    for artifact in report.artifacts:
        suite = by_path[artifact.path]
        if suite.find("testcase") is None:
            path = _xml_text(display_path(artifact.path))
            _case(suite, path, "kernelsplit check")
    for raw, error in report.errors:
        path = _xml_text(display_path(raw))
        suite = _suite(root, path)
        case = _case(suite, path, "read the artifact")
        ET.SubElement(case, "error", type=error.code, message=_xml_text(error.message)).text = _xml_text(
            f"{path}: {error.message}"
        )
    listed, counted = skip_summary(report.skipped)
    if listed or counted:
        suite = _suite(root, "skipped")
        for item in listed:
            path = _xml_text(display_path(item.path))
            ET.SubElement(_case(suite, path, "skipped"), "skipped", message=_xml_text(item.reason))
        for text in counted:
            case = ET.SubElement(suite, "testcase", classname="kernelsplit check", name=text)
            ET.SubElement(case, "skipped", message=text)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        for key, value in _count(suite).items():
            totals[key] += value
    root.attrib.update({k: str(v) for k, v in totals.items()})
    root.set("time", "0")
    return root


class CheckJunitReporter(CheckReporter):
    name = "junit"

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        root = report_xml(report)
        ET.indent(root)
        stream.write('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")
