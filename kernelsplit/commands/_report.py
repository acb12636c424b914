"""What ``check`` and ``diff`` share on the command line: config loading and report output."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import click

from .. import exitcodes


def load_config_or_exit(config_path: str | None) -> Any:
    from ..config import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as exc:
        click.echo(f"kernelsplit: error: {exc.message}", err=True)
        sys.exit(exitcodes.ERROR)


def emit(reporter: Any, report: Any, output: str | None, output_format: str) -> None:
    """Render once; write to ``-o FILE`` or stdout, and a markdown report also to the job summary.

    A file that cannot be written is a one-line error with exit 2, like an unreadable model.
    """
    buffer = io.StringIO()
    reporter.write(report, buffer)
    text = buffer.getvalue()
    if output:
        _write(output, "w", text)
    else:
        sys.stdout.write(text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if output_format == "markdown" and summary:
        _write(summary, "a", text if text.endswith("\n") else text + "\n")


def _write(target: str, mode: str, text: str) -> None:
    try:
        with open(target, mode, encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        click.echo(f"kernelsplit: error: {target}: cannot write the report: {exc.strerror or exc}", err=True)
        sys.exit(exitcodes.ERROR)
