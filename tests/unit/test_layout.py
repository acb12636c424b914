"""Text layout for the human formats: rows fitted to a width without breaking a token, styled text
wrapped at spaces, trailing blanks stripped off a terminal, inspect's column priorities."""

from __future__ import annotations

import io

import pytest
from rich.text import Text

from kernelsplit.render.console import StripTrailingBlanks, make_console
from kernelsplit.render.inspect.text import COLUMNS, fit_columns
from kernelsplit.render.layout import MIN_MESSAGE, rows, wrap, wrap_text

MESSAGE = "weights still at Keras's initializers: orthogonal recurrent kernel, averyveryverylongtoken end"


def test_wrap_breaks_at_spaces_only() -> None:
    lines = wrap(MESSAGE, 20)
    assert " ".join(lines) == MESSAGE
    assert "averyveryverylongtoken" in lines  # longer than the width: whole, on its own line
    assert all(len(line) <= 20 for line in lines if " " in line)
    assert wrap(MESSAGE, None) == [MESSAGE]


@pytest.mark.parametrize("width", [None, 40, 60, 100])
def test_rows_align_leading_cells_and_wrap_the_message(width: int | None) -> None:
    table = [[Text("warning", style="yellow"), "KS105", "enc", MESSAGE], ["error", "KS101", "a_longer_layer", "x"]]
    out = rows(table, width)
    assert len(out) == 2
    joined = [" ".join(line.plain for line in row_lines) for row_lines in out]
    assert " ".join(joined[0].split()) == f"warning KS105 enc {MESSAGE}"
    if width is None:
        assert [len(r) for r in out] == [1, 1]
    else:
        assert all(len(line.plain) <= width for line in out[0] if "averyvery" not in line.plain)
        lead = len("  ".join(["warning", "KS105", "a_longer_layer"])) + 2
        if width - lead >= MIN_MESSAGE:
            assert out[0][0].plain.startswith("warning  KS105  enc") and out[0][0].plain[lead:].startswith("weights")
        else:  # too narrow for the message beside the row: it goes under it
            assert out[0][0].plain.rstrip() == "warning  KS105  enc"
    assert out[0][0].spans[0].style == "yellow"


def test_wrap_text_keeps_styles() -> None:
    text = Text("kernelsplit check ") + Text("failed", style="bold red") + Text(": 3 artifact(s), 1 error(s)")
    lines = wrap_text(text, 24, indent=4)
    assert [line.plain for line in lines] == [
        "kernelsplit check",
        "    failed: 3",
        "    artifact(s), 1",
        "    error(s)",
    ]
    assert any(span.style == "bold red" for span in lines[1].spans)
    assert wrap_text(text, None) == [text]


def test_strip_trailing_blanks_only_at_line_ends() -> None:
    sink = io.StringIO()
    stream = StripTrailingBlanks(sink)
    stream.write("a  b   \nc ")
    stream.write("  \n")
    stream.flush()
    assert sink.getvalue() == "a  b\nc\n"


def test_console_off_a_terminal_has_no_width_and_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    sink = io.StringIO()
    console = make_console(sink)
    console.print(Text("x" * 500, style="red"))
    assert sink.getvalue() == "x" * 500 + "\n"
    monkeypatch.setenv("COLUMNS", "40")
    assert make_console(io.StringIO()).width == 40


def test_inspect_columns_narrow_in_priority_order() -> None:
    headers = [h for h, _ in COLUMNS]
    cells = [headers, ["recurrent_kernel", "f (forget)", "[:, 4:8]", "4×4", "float32", "-1.633", "0.6499",
                       "-0.1561", "0.5262", "1.633", "2.195", "0", "0", "0"]]  # fmt: skip
    kept, names, taken = fit_columns(cells, None)
    assert (len(kept), names, taken) == (len(COLUMNS), True, [])
    previous = len(COLUMNS)
    for width in range(130, 30, -10):
        kept, names, taken = fit_columns(cells, width)
        assert len(kept) <= previous
        previous = len(kept)
        assert {"part", "gate"} <= {headers[i] for i in kept}
        assert taken == list(
            ("L2", "zeros", "gate names", "std", "mean", "dtype", "min/max", "shape", "slice")[: len(taken)]
        )
