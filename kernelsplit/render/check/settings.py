"""``check --show-settings``: the settings in effect and where each came from (default, a file, the
command line), like ruff's ``--show-settings``."""

from __future__ import annotations

import sys
from typing import IO, Any

from ...check.config import Config
from ...check.engine import rule_settings
from ..console import make_console, output_width
from ..layout import file_text, rows


def settings_lines(config: Config, width: int | None) -> list[Any]:
    from rich.text import Text

    lines: list[Any] = []
    where = file_text(str(config.path)) if config.path else Text("none found: the defaults apply", style="dim")
    lines.append(Text("configuration file: ", style="bold") + where)
    general = [
        ["fail-on", Text(config.fail_on or "error"), f"({config.source('fail-on')})"],
        [
            "diff.max-drift",
            Text("none" if config.max_drift is None else f"{config.max_drift:g}"),
            f"({config.source('diff.max-drift')})",
        ],
    ]
    lines += [line for row in rows(general, width) for line in row]
    for pattern, codes in config.per_path_ignores:
        line = Text("per-path-ignores ")
        line.append_text(file_text(repr(pattern)))
        line.append(f" = {', '.join(sorted(codes))} ({config.source('per-path-ignores')})")
        lines.append(line)
    lines.append(Text(""))
    lines.append(Text("rules", style="bold"))
    table = []
    followers: list[list[Any]] = []
    for setting in rule_settings(config):
        rule = setting.rule
        state = Text("on", style="green") if setting.enabled else Text("off", style="dim")
        severity = f"{setting.severity} ({setting.sources['severity']})"
        table.append([Text(rule.code), Text(rule.name), state, Text(severity), setting.sources["enabled"]])
        followers.append(
            [
                Text(f"      {key} = {value:g} ({setting.sources[key]})", style="cyan")
                for key, value in setting.thresholds.items()
            ]
        )
    for row_lines, extra in zip(rows(table, width, indent=2), followers, strict=True):
        lines += row_lines + extra
    return lines


def write_settings(config: Config, stream: IO[str] | None = None) -> None:
    stream = stream or sys.stdout
    console = make_console(file=stream)
    for line in settings_lines(config, output_width(stream)):
        console.print(line, soft_wrap=True)
