"""One place that builds rich consoles, so colour and width rules are the same everywhere.

* Colour only on a terminal, never with ``NO_COLOR`` set (rich also honours ``FORCE_COLOR``).
* Width: ``COLUMNS`` when set, else the terminal's width; output that is not a terminal (a CI log,
  a pipe, ``-o FILE``) has no width at all: every line keeps its natural length, so a log line is
  never broken and paths stay greppable.
* Off a terminal, trailing blanks rich pads table cells with are stripped from every line.

Reporters render text from files (layer names, paths, messages) as :class:`rich.text.Text`, never
as markup, so ``[bold]`` in a layer name is shown as typed; and every string a console renders
passes through ``render/safe.py``'s ``terminal_text``, so no control character from a file reaches
the terminal raw, whichever reporter printed it.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from typing import IO, Any

#: Width given to rich when the output has none (not a terminal, no ``COLUMNS``): wider than any line.
NATURAL_WIDTH = 1 << 20


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def columns_from_env() -> int | None:
    """``COLUMNS`` as a positive integer, or None when unset or not a number."""
    try:
        value = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def output_width(stream: Any) -> int | None:
    """The width lines must fit: ``COLUMNS``, else the terminal's, else None (natural width)."""
    columns = columns_from_env()
    if columns is not None:
        return columns
    if is_terminal(stream):
        import shutil

        return shutil.get_terminal_size().columns
    return None


class StripTrailingBlanks:
    """A text stream that drops the blanks at the end of every line it passes on."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.pending = ""

    def write(self, text: str) -> int:
        lines = (self.pending + text).split("\n")
        self.pending = lines.pop()
        if lines:
            self.stream.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.stream.write(self.pending)
            self.pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"


@functools.cache
def _console_class() -> Any:
    from rich.console import Console
    from rich.segment import Segment

    from .safe import terminal_lines, terminal_text

    class KernelsplitConsole(Console):
        def render_str(self, text: str, **kwargs: Any) -> Any:
            """Every string rendered (print arguments, table cells, titles) is escaped, never markup."""
            kwargs["markup"] = False
            kwargs["emoji"] = False
            return super().render_str(terminal_text(text), **kwargs)

        def render(self, renderable: Any, options: Any = None) -> Any:
            """The last net: whatever a reporter built (a ``Text`` of file text included), no
            segment of text reaches the terminal with a control character but its line breaks."""
            for segment in super().render(renderable, options):
                if segment.control or "\n" in segment.text:
                    yield segment if segment.control else Segment(terminal_lines(segment.text), segment.style)
                else:
                    yield Segment(terminal_text(segment.text), segment.style) if segment.text else segment

        def on_broken_pipe(self) -> None:
            """Rich exits 1 on EPIPE; the command line decides (a closed stdout ends a run quietly)."""
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return KernelsplitConsole


def make_console(file: IO[str] | None = None) -> Any:
    """A rich console for ``file`` (default: stdout) following the rules above."""
    Console = _console_class()
    stream = file or sys.stdout
    tty = is_terminal(stream)
    width = output_width(stream)
    return Console(
        file=stream if tty else StripTrailingBlanks(stream),
        width=width if width is not None else NATURAL_WIDTH,
        no_color=bool(os.environ.get("NO_COLOR")) or None,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        markup=False,
        force_terminal=None if tty else False,
    )
