"""render/safe.py: file text is shown escaped and never read as markup, whichever way it is printed."""

from __future__ import annotations

import io

import pytest

from kernelsplit.render.console import make_console
from kernelsplit.render.safe import styled, terminal_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain name/with [brackets]", "plain name/with [brackets]"),
        ("\x1b[2Jwiped", "\\x1b[2Jwiped"),
        ("title\x1b]0;pwned\x07", "title\\x1b]0;pwned\\x07"),
        ("line\nbreak\r", "line\\x0abreak\\x0d"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("ünïcödé 中文 ×", "ünïcödé 中文 ×"),
    ],
)
def test_terminal_text_escapes_what_a_terminal_would_obey(raw: str, shown: str) -> None:
    assert terminal_text(raw) == shown


def test_consoles_print_markup_and_escapes_as_typed() -> None:
    from rich.table import Table

    buffer = io.StringIO()
    console = make_console(buffer)
    console.print("[bold]x[/] [/ \x1b[31mred")
    console.print(styled("[link=http://x]y[/link]", "bold"))
    table = Table("name")
    table.add_row("[red]cell\x1b[H")
    console.print(table)
    out = buffer.getvalue()
    assert "[bold]x[/] [/ \\x1b[31mred" in out
    assert "[link=http://x]y[/link]" in out
    assert "[red]cell\\x1b[H" in out
    assert "\x1b" not in out
