"""Through a real pseudo-terminal: the width the terminal reports is the width lines fit, colour is
on, and ``NO_COLOR`` turns it off (CliRunner's stdout is never a terminal, so only this proves it)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from support.paths import FIXTURES, REPO

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: An SGR sequence that sets a colour (30-37, 38;..., 40-47, 48;..., 90-97, 100-107); NO_COLOR
#: forbids these (https://no-color.org), not bold or dim.
COLOUR = re.compile(r"\x1b\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]*)*m")
ZOO_TFK = FIXTURES / "tf_keras" / "zoo.h5"
RULES = FIXTURES / "rules"


def run_in_pty(args: list[str], columns: int, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``python -m kernelsplit ARGS`` with stdout and stderr on a pty ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    environment.update({"TERM": "xterm-256color", "PYTHONPATH": str(REPO), **(env or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "kernelsplit", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=environment,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            process.kill()
            raise AssertionError("no output for 60 s")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def visible(text: str) -> list[str]:
    return ANSI.sub("", text).splitlines()


@pytest.mark.parametrize("columns", [80, 200])
def test_inspect_fits_the_terminal_in_colour(columns: int) -> None:
    status, out = run_in_pty(["inspect", str(ZOO_TFK)], columns)
    assert status == 0, out
    assert ANSI.search(out), "a terminal gets colour"
    lines = visible(out)
    table = [line for line in lines if "│" in line or "┃" in line or "━" in line]
    assert table and all(len(line) <= columns for line in table)
    if columns == 80:
        assert any(line.startswith("(hidden to fit 80 columns:") for line in lines)
    else:  # 200 columns hold the whole table
        assert not any("hidden to fit" in line for line in lines)
        assert any(line.split("┃")[-1].strip() == "Inf" for line in table)
    assert "…" not in "".join(lines)


def test_no_color_is_honoured_on_a_terminal() -> None:
    status, out = run_in_pty(["inspect", str(ZOO_TFK), "--layer", "my_lstm"], 100, {"NO_COLOR": "1"})
    assert status == 0 and not COLOUR.search(out)
    status, out = run_in_pty(["inspect", str(ZOO_TFK), "--layer", "my_lstm"], 100)
    assert COLOUR.search(out), "the same run without NO_COLOR is coloured (the pattern can fail)"
    assert all(len(line) <= 100 for line in visible(out) if "│" in line)


def test_check_text_is_coloured_on_a_terminal_and_never_breaks_a_token(tmp_path: Path) -> None:
    deep = tmp_path / ("a_rather_long_folder_name_for_models_" * 2) / "nan.keras"
    deep.parent.mkdir(parents=True)
    deep.write_bytes((RULES / "nan.keras").read_bytes())
    status, out = run_in_pty(["check", str(deep), str(RULES / "untrained.keras")], 60)
    assert status == 1, out
    assert "\x1b[1;31merror" in out or "\x1b[31;1merror" in out, "severity in bold red"
    lines = visible(out)
    assert str(deep) in lines, "the path is a line of its own, whole"
    words = set(" ".join(lines).split())
    for token in ("recurrent", "orthogonal", "Glorot-bounded", "initializers:", "kernel[f]"):
        assert token in words
    assert all(len(line) <= 60 for line in lines if not line.startswith("/")), lines
    status, out = run_in_pty(["check", str(deep)], 60, {"NO_COLOR": "1"})
    assert status == 1 and not COLOUR.search(out)


@pytest.mark.parametrize("command", ["inspect", "diff"])
def test_output_to_a_file_from_a_terminal_keeps_every_column(tmp_path: Path, command: str) -> None:
    """``-o FILE`` has no width: run from a narrow terminal, the file is what a pipe would get."""
    files = [str(ZOO_TFK)] if command == "inspect" else [str(RULES / "healthy.keras"), str(RULES / "reshaped.keras")]
    from_terminal, from_pipe = tmp_path / "terminal.txt", tmp_path / "pipe.txt"
    status, out = run_in_pty([command, *files, "-o", str(from_terminal)], 40)
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    piped = subprocess.run(
        [sys.executable, "-m", "kernelsplit", command, *files, "-o", str(from_pipe)],
        capture_output=True,
        env={**environment, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert piped.returncode == status, (out, piped.stderr)
    text = from_terminal.read_text()
    assert "hidden to fit" not in text
    assert text == from_pipe.read_text()
