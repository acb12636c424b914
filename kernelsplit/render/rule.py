"""``kernelsplit rule``: a rule's documentation as text (what, why, threshold, how to change it)."""

from __future__ import annotations

import sys
from typing import IO, Any

from ..check.rules import RULES, Rule
from .console import make_console, output_width
from .layout import paragraph, rows


def rule_lines(rule: Rule, width: int | None) -> list[Any]:
    from rich.text import Text

    doc = rule.doc()
    lines: list[Any] = [
        Text(f"{rule.code} {rule.name}", style="bold") + Text(f"  (default severity: {rule.default_severity})"),
        Text(""),
    ]
    lines += paragraph(doc.what, width)
    sections = [("Why", doc.why)]
    if doc.measured:
        sections.append(("Threshold", doc.measured))
    for title, text in sections:
        lines += [Text(""), Text(title, style="bold")]
        lines += paragraph(text, width, indent=2)
    lines += [Text(""), Text("How to change it", style="bold")]
    for line in rule.how_to_change():
        lines += paragraph(line, width, indent=2)
    return lines


def write_rule(rule: Rule, stream: IO[str] | None = None) -> None:
    stream = stream or sys.stdout
    console = make_console(file=stream)
    for line in [*rule_lines(rule, output_width(stream)), ""]:
        console.print(line, soft_wrap=True)


def write_rule_list(stream: IO[str] | None = None) -> None:
    from rich.text import Text

    stream = stream or sys.stdout
    console = make_console(file=stream)
    table = [
        [
            Text(rule.code, style="bold"),
            Text(rule.name),
            Text(str(rule.default_severity)),
            rule.summary + "".join(f" [{t.key} = {t.default:g}]" for t in rule.thresholds),
        ]
        for rule in RULES
    ]
    for line in [line for row in rows(table, output_width(stream)) for line in row]:
        console.print(line, soft_wrap=True)
