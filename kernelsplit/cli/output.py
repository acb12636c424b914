"""How the command line speaks: the one error-line format, and writing reports to stdout or files."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import click

from ..errors import KernelsplitError, OutputError


def error_line(error: KernelsplitError) -> str:
    """``kernelsplit: error: PATH: reason``: the only place that format is built."""
    where = f"{error.path}: " if error.path else ""
    return f"kernelsplit: error: {where}{error.message}"


def report_error(error: KernelsplitError) -> None:
    click.echo(error_line(error), err=True)


def report_warning(path: str, message: str) -> None:
    click.echo(f"kernelsplit: warning: {path}: {message}", err=True)


def emit(reporter: Any, report: Any, output: str | None, markdown_summary: bool = False) -> None:
    """Render once; write to ``-o FILE`` or stdout, and a markdown report also to the job summary.

    A file that cannot be written raises :class:`OutputError` (one line, exit 2), like an
    unreadable model.
    """
    buffer = io.StringIO()
    reporter.write(report, buffer)
    text = buffer.getvalue()
    if output:
        _write(output, "w", text)
    else:
        sys.stdout.write(text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if markdown_summary and summary:
        _write(summary, "a", text if text.endswith("\n") else text + "\n")


def _write(target: str, mode: str, text: str) -> None:
    try:
        with open(target, mode, encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write the report: {exc.strerror or exc}", path=target) from None
