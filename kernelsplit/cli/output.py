"""How the command line speaks: the one error-line format, and writing reports to stdout or files."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from ..errors import KernelsplitError, OutputError
from ..render.safe import terminal_text


def error_line(error: KernelsplitError) -> str:
    """``kernelsplit: error: PATH: reason``: the only place that format is built. Paths and reasons
    carry text from files, so they are escaped (render/safe.py): always one line, no control codes."""
    where = f"{error.path}: " if error.path else ""
    return terminal_text(f"kernelsplit: error: {where}{_bounded(error.message)}")


def _bounded(message: str, limit: int = 2000) -> str:
    """A reason quoting file text (a 70,000-character name) stays a line a log can show."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}… ({len(message) - limit} more characters)"


def report_error(error: KernelsplitError) -> None:
    click.echo(error_line(error), err=True)


def report_warning(path: str, message: str) -> None:
    click.echo(terminal_text(f"kernelsplit: warning: {path}: {message}"), err=True)


def report_line(text: str, err: bool = False) -> None:
    """A line of human output that carries file text (paths, names), escaped like errors."""
    click.echo(terminal_text(text), err=err)


def emit(reporter: Any, report: Any, output: str | None, markdown_summary: bool = False) -> None:
    """Render into ``-o FILE`` or straight onto stdout (the real terminal: colour and width), and a
    markdown report also into the job summary.

    A file that cannot be written raises :class:`OutputError` (one line, exit 2), like an
    unreadable model. A closed stdout (``| head``) ends the output quietly: the command still
    returns its own exit code, which the report was computed for.
    """
    summary = os.environ.get("GITHUB_STEP_SUMMARY") if markdown_summary else None
    if summary:
        buffer = io.StringIO()
        reporter.write(report, buffer)
        text = buffer.getvalue()
        if output:
            _write(output, "w", text)
        else:
            to_stdout(lambda: sys.stdout.write(text))
        _write(summary, "a", text if text.endswith("\n") else text + "\n")
    elif output:
        _write(output, "w", reporter, report)
    else:
        to_stdout(lambda: reporter.write(report, sys.stdout))


def emit_text(text: str, output: str | None, markdown_summary: bool = False) -> None:
    """Write ``text`` rendered elsewhere (in a worker) like :func:`emit` writes a report."""
    if output:
        _write(output, "w", text)
    else:
        to_stdout(lambda: sys.stdout.write(text))
    summary = os.environ.get("GITHUB_STEP_SUMMARY") if markdown_summary else None
    if summary:
        _write(summary, "a", text if text.endswith("\n") else text + "\n")


@contextmanager
def output_stream(output: str | None) -> Iterator[IO[str]]:
    """``-o FILE`` (created now) or stdout, for reports written as they go."""
    if not output:
        yield sys.stdout
        return
    try:
        handle = open(output, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise OutputError(f"cannot write the report: {exc.strerror or exc}", path=output) from None
    with handle:
        yield handle


def to_stdout(write: Callable[[], Any]) -> None:
    """Run ``write`` (which prints to stdout) and flush; a reader that went away ends it quietly."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()


def silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so nothing (not even the flush at exit) writes again.

    The recipe of the Python docs (signal module, "Note on SIGPIPE").
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - replaces stdout for good


def _write(target: str, mode: str, content: Any, report: Any = None) -> None:
    try:
        with open(target, mode, encoding="utf-8") as handle:
            if isinstance(content, str):
                handle.write(content)
            else:
                content.write(report, handle)
    except OSError as exc:
        raise OutputError(f"cannot write the report: {exc.strerror or exc}", path=target) from None
