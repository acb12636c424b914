"""One place that builds rich consoles, so colour and width rules are the same everywhere.

Colour only on a terminal and never with ``NO_COLOR`` (rich honours it); in CI logs (not a TTY)
the width is ``COLUMNS`` or 160 so wide stat tables are not folded into unreadable columns.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any


def make_console(file: IO[str] | None = None) -> Any:
    from rich.console import Console

    stream = file or sys.stdout
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    width = None
    if not is_tty:
        try:
            width = int(os.environ.get("COLUMNS", "160"))
        except ValueError:
            width = 160
    return Console(
        file=stream,
        width=width,
        no_color=bool(os.environ.get("NO_COLOR")) or None,
        highlight=False,
        soft_wrap=False,
        force_terminal=None if is_tty else False,
    )
