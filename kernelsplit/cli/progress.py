"""A progress bar on stderr while a batch runs, only when stderr is a terminal (never in pipes or CI logs).

And only when the report itself is not going to that terminal (it is redirected, or written with
``-o FILE``): on a terminal the report already shows each file as it is read, and a bar redrawn
between its lines would only garble them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _is_terminal(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def progress(total: int, label: str, report_to_file: bool = False) -> Iterator[Callable[[Any], None]]:
    """A callback to call once per finished file; a transient rich bar when stderr is a terminal
    and the report is not (``report_to_file``: it goes to ``-o FILE``)."""
    report_on_terminal = _is_terminal(sys.stdout) and not report_to_file
    if total < 2 or not _is_terminal(sys.stderr) or report_on_terminal:
        yield lambda _outcome: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..render.console import make_console

    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=make_console(sys.stderr),
        transient=True,
    )
    task = bar.add_task(label, total=total)
    with bar:
        yield lambda _outcome: bar.advance(task)
