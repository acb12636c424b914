"""Aligned rows for the human formats, fitted to a width without ever breaking a token.

Rich tables fold or ellipsize cells to fit a width (``recurrent_kern``/``el[f]``, ``wa…``), which
breaks words mid-token and wraps file paths over several lines. Here every column but the last
keeps its natural width, and only the last one (a message) wraps, at spaces, with a hanging indent;
a token longer than the room left is never split (the line runs over instead). When the leading
columns leave too little room, the message moves to the next line. With no width (output that is
not a terminal) nothing wraps at all.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

#: Below this many columns for the message, it goes on its own line(s) under the row.
MIN_MESSAGE = 28


def file_text(text: str, style: str | None = None) -> Any:
    """Text that came from a file (paths, layer names, messages) as a rich Text, never markup, its
    control characters escaped (render/safe.py)."""
    from .safe import styled

    return styled(text, style or "")


def cell_width(text: Any) -> int:
    from rich.cells import cell_len

    return cell_len(text.plain if hasattr(text, "plain") else str(text))


def wrap(text: str, width: int | None) -> list[str]:
    """``text`` in lines of at most ``width`` cells, broken at spaces only (None: one line)."""
    if width is None or cell_width(text) <= width:
        return [text]
    return textwrap.wrap(text, width=max(width, 1), break_long_words=False, break_on_hyphens=False) or [""]


def rows(
    table: Sequence[Sequence[Any]], width: int | None, *, indent: int = 0, gap: int = 2, message_style: str = ""
) -> list[list[Any]]:
    """The lines of each row of ``table``: leading cells aligned in columns, the last cell (a plain
    str) wrapped into the rest of ``width``. Leading cells are rich Text or str."""
    from rich.text import Text

    if not table:
        return []
    n_lead = len(table[0]) - 1
    widths = [max(cell_width(row[i]) for row in table) for i in range(n_lead)]
    lead_width = indent + sum(widths) + gap * n_lead
    out = []
    for row in table:
        lines = []
        lead = Text(" " * indent)
        for cell, size in zip(row[:n_lead], widths, strict=True):
            piece = cell if isinstance(cell, Text) else Text(str(cell))
            lead.append_text(piece)
            lead.append(" " * (size - cell_width(piece) + gap))
        message = str(row[-1])
        if width is None or width - lead_width >= MIN_MESSAGE:
            chunks = wrap(message, None if width is None else width - lead_width)
            lines.append(lead + Text(chunks[0], style=message_style))
            lines += [Text(" " * lead_width + chunk, style=message_style) for chunk in chunks[1:]]
        else:
            lead.rstrip()
            lines.append(lead)
            hang = indent + 4
            lines += [Text(" " * hang + chunk, style=message_style) for chunk in wrap(message, width - hang)]
        out.append(lines)
    return out


def wrap_text(text: Any, width: int | None, *, indent: int = 0) -> list[Any]:
    """A styled rich Text broken at spaces into lines of ``width`` (a long token runs over), each
    continuation indented by ``indent``; styles are kept."""
    from rich.text import Text

    plain = text.plain
    if width is None or cell_width(plain) <= width:
        return [text]
    chunks = textwrap.wrap(
        plain, width=width, subsequent_indent=" " * indent, break_long_words=False, break_on_hyphens=False
    )
    offsets = []
    position = 0
    for number, chunk in enumerate(chunks):
        start = plain.index(chunk.lstrip(" ") if number else chunk, position)
        if number:
            offsets.append(start)
        position = start + len(chunk.lstrip(" "))
    lines = []
    for number, piece in enumerate(text.divide(offsets)):
        piece.rstrip()
        lines.append(piece if number == 0 else Text(" " * indent) + piece)
    return lines


def paragraph(text: str, width: int | None, *, indent: int = 0, style: str = "") -> list[Any]:
    """``text`` wrapped at spaces to ``width`` with every line indented (None: one line)."""
    from rich.text import Text

    room = None if width is None else max(width - indent, MIN_MESSAGE)
    return [Text(" " * indent + chunk, style=style) for chunk in wrap(text, room)]
