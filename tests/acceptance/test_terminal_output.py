"""Human output in CI logs and narrow terminals, through click's CliRunner (stdout is not a terminal).

Off a terminal lines have their natural width and no trailing blanks; ``COLUMNS`` sets a width,
which text fits by wrapping messages at spaces only (a token, a path, a number is never broken).
The concise formats give one greppable line per finding; ``inspect``'s summary one per layer; a
closed stdout ends a run quietly (a real pipe, in a subprocess).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.paths import FIXTURES, REALWORLD, REPO

import kernelsplit
from kernelsplit.cli import cli
from kernelsplit.render.paths import display_path

RULES = FIXTURES / "rules"
ZOO_K3 = FIXTURES / "keras3" / "zoo.keras"
ZOO_TFK = FIXTURES / "tf_keras" / "zoo.h5"


def run(*args: str, columns: int | None = None) -> tuple[int, str, str]:
    env = {"COLUMNS": str(columns) if columns else None, "NO_COLOR": None}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with models under a long folder name (paths longer than 80 columns)."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "artifacts" / ("a_long_folder_name_that_makes_every_path_wide_" * 2)
    folder.mkdir(parents=True)
    for name in ("nan.keras", "untrained.keras", "spectral_norm.keras", "lambda.keras", "healthy.keras"):
        shutil.copy(RULES / name, folder / name)
    return folder


def _relative(path: Path) -> str:
    return str(path.relative_to(Path.cwd()))


# --- natural width, no trailing blanks ----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("inspect", str(ZOO_TFK)),
        ("inspect", str(ZOO_TFK), "--output-format", "summary"),
        ("check", str(RULES)),
        ("check", str(RULES), "--output-format", "concise"),
        ("diff", str(RULES / "healthy.keras"), str(RULES / "reshaped.keras")),
        ("rule", "KS105"),
        ("check", "--show-settings"),
    ],
    ids=lambda a: " ".join(x for x in a if not x.startswith("/")),
)
def test_off_a_terminal_lines_have_no_trailing_blanks_and_no_colour(args: tuple[str, ...]) -> None:
    _, out, _ = run(*args)
    assert out.strip()
    assert "\x1b[" not in out
    assert [line for line in out.splitlines() if line != line.rstrip()] == []


def test_off_a_terminal_nothing_wraps(models: Path) -> None:
    """A CI log has no width: each finding's message and the verdict are one line each."""
    _, out, _ = run("check", "artifacts")
    lines = out.splitlines()
    assert _relative(models / "untrained.keras") in lines
    ks105 = [line for line in lines if "KS105 untrained" in line]
    assert len(ks105) == 2 and all(line.endswith("the layer was never trained") for line in ks105)
    assert lines[-1].startswith("kernelsplit check failed: 5 artifact(s)")


# --- fitted to COLUMNS, nothing broken mid-token -------------------------------------------------


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_check_text_fits_the_width_without_breaking_tokens_or_paths(models: Path, columns: int) -> None:
    status, out, _ = run("check", "artifacts", columns=columns)
    _, natural, _ = run("check", "artifacts")
    assert status == 1
    lines = out.splitlines()
    paths = {_relative(models / name) for name in ("nan.keras", "untrained.keras", "spectral_norm.keras")}
    assert paths <= set(lines), "each file's path is a line of its own, whole"
    assert all(len(line) <= columns for line in lines if not Path(line).is_file())
    assert out.split() == natural.split(), "the same words in the same order: only line breaks differ"


def test_check_text_says_how_to_change_the_threshold_crossed(models: Path) -> None:
    _, out, _ = run("check", "artifacts")
    assert re.search(r"KS106 spectral-norm +enc +recurrent_kernel\[c\] +spectral norm 6\d\d(\.\d+)? > 500", out)
    assert (
        "help: threshold spectral-norm = 500; change it with --set KS106.spectral-norm=N or spectral-norm = N "
        "in [tool.kernelsplit.thresholds]" in out
    )
    assert "help:" not in run("check", "artifacts", "--quiet")[1]


@pytest.mark.parametrize("columns", [60, 100])
def test_diff_text_fits_the_width(columns: int) -> None:
    status, out, _ = run("diff", str(RULES / "healthy.keras"), str(RULES / "reshaped.keras"), columns=columns)
    _, natural, _ = run("diff", str(RULES / "healthy.keras"), str(RULES / "reshaped.keras"))
    assert status == 1
    first, *rest = out.splitlines()
    assert first == f"{display_path(str(RULES / 'healthy.keras'))} -> {display_path(str(RULES / 'reshaped.keras'))}"
    assert all(len(line) <= columns for line in rest)

    def words(text: str) -> set[str]:
        return {w.strip("(),") for w in text.split()} - {"", "rel.", "change", "max", "|Δ|"}

    assert words(out) == words(natural), "the same facts; narrow, the numbers join the message"


# --- concise ------------------------------------------------------------------------------------


def test_check_concise_is_one_greppable_line_per_finding(models: Path) -> None:
    status, out, _ = run("check", "artifacts", "--output-format", "concise", columns=40)
    nan, untrained, spectral, lam = (
        _relative(models / n) for n in ("nan.keras", "untrained.keras", "spectral_norm.keras", "lambda.keras")
    )
    lines = out.splitlines()
    assert f"{nan}:enc:kernel[f]: KS101 [error] non-finite: 1 NaN of 16 values" in lines
    assert any(re.fullmatch(rf"{re.escape(spectral)}:enc:recurrent_kernel\[c\]: KS106 \[warning\] "
                            r"spectral-norm: spectral norm 6\d\d(\.\d+)? > 500", line) for line in lines)  # fmt: skip
    assert sum(line.startswith(f"{untrained}:enc: KS105 [warning] untrained: ") for line in lines) == 1
    assert f"{lam}: KS110 [info] executable-layers: contains executable layers (never run by kernelsplit): " in out
    assert lines[-1].startswith("kernelsplit check failed: 5 artifact(s), 1 error(s), 3 warning(s), 1 info")
    assert status == 1
    quiet = run("check", "artifacts", "--output-format", "concise", "--quiet")[1].splitlines()
    assert quiet == lines[:-1] and len(quiet) == 5


def test_diff_concise_locates_each_change_in_the_new_file() -> None:
    old, new = RULES / "healthy.keras", RULES / "reshaped.keras"
    status, out, _ = run("diff", str(old), str(new), "--format", "concise")
    new = display_path(str(new))
    lines = out.splitlines()
    assert status == 1
    assert f"{new}:enc: config units: 8 -> 10" in lines
    assert f"{new}:enc:kernel[f]: shape-changed shape [2, 8] -> [2, 10] [breaking: shape changed]" in lines
    assert f"{new}:extra: added" in lines
    assert lines[-1].startswith("kernelsplit diff breaking: 2 layer(s) changed")
    _, same, _ = run("diff", str(RULES / "healthy.h5"), str(RULES / "healthy.keras"), "--format", "concise")
    assert same.splitlines() == [
        "kernelsplit diff identical: 0 layer(s) changed, 2 identical, 0 equivalent, 0 added, 0 removed; "
        "0 breaking change(s)"
    ]


def test_diff_human_formats_say_why_layers_are_equivalent_or_not() -> None:
    legacy = FIXTURES / "legacy"
    status, out, _ = run("diff", str(legacy / "cudnn.h5"), str(legacy / "cudnn_converted.h5"), "--format", "concise")
    converted = display_path(str(legacy / "cudnn_converted.h5"))
    assert status == 0
    assert f"{converted}:cu_lstm: equivalent (input-side and recurrent-side biases add up to the same values" in out
    assert out.splitlines()[-1].startswith("kernelsplit diff equivalent: 0 layer(s) changed, 0 identical, 4 equivalent")
    status, text, _ = run("diff", str(legacy / "cudnn.h5"), str(legacy / "cudnn_converted.h5"), columns=80)
    assert "    why: CuDNNLSTM and LSTM compute the same cell" in text.splitlines()
    assert all(len(line) <= 80 for line in text.splitlines()[1:])
    status, out, _ = run("diff", str(legacy / "k1_resaved.h5"), str(legacy / "k1_keras3.keras"), "--format", "concise")
    lines = out.splitlines()
    assert status == 1
    assert any(
        line.startswith(f"{display_path(str(legacy / 'k1_keras3.keras'))}:lstm_1: not equivalent: recurrent_activation")
        and line.endswith("[breaking: computes another function]")
        for line in lines
    )


HOSTILE_NAME = "e\x1b[31mRED\x07\u202eevil\r\nX"
HOSTILE_SHOWN = "e\\x1b[31mRED\\x07\\u202eevil\\x0d\\x0aX"


def _renamed_copy(src: Path, dst: Path, old: str, new: str) -> Path:
    """A copy of a Keras 3 ``.keras`` with one layer renamed (its weights are stored by path, not name)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                for layer in config["config"]["layers"]:
                    if layer["config"]["name"] == old:
                        layer["config"]["name"] = new
                data = json.dumps(config).encode()
            zout.writestr(item, data)
    return dst


@pytest.mark.parametrize("command", ["check", "diff"])
def test_concise_shows_control_characters_from_files_escaped_one_line_each(tmp_path: Path, command: str) -> None:
    hostile = _renamed_copy(RULES / "nan.keras", tmp_path / "hostile.keras", "enc", HOSTILE_NAME)
    args = [str(hostile)] if command == "check" else [str(RULES / "healthy.keras"), str(hostile)]
    status, out, _ = run(command, *args, "--output-format", "concise")
    assert status == 1
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f\u202e]", out)
    shown = display_path(str(hostile))
    expected = {
        "check": f"{shown}:{HOSTILE_SHOWN}:kernel[f]: KS101 [error] non-finite: 1 NaN of 16 values",
        "diff": f"{shown}:{HOSTILE_SHOWN}: added",
    }
    assert [line for line in out.splitlines() if "RED" in line] == [expected[command]]


# --- inspect summary ----------------------------------------------------------------------------


def test_summary_is_one_line_per_layer_with_its_file() -> None:
    status, out, _ = run("inspect", str(ZOO_K3), str(ZOO_TFK), "--output-format", "summary")
    assert status == 0
    header, *rows = out.splitlines()
    assert header.split() == ["file", "layer", "class", "units", "gates", "params", "max", "|w|", "NaN/Inf"]
    layers = [(str(p), layer) for p in (ZOO_K3, ZOO_TFK) for layer in kernelsplit.open(p).layers]
    assert len(rows) == len(layers)
    for row, (path, layer) in zip(rows, layers, strict=True):
        cells = row.split()
        assert cells[:2] == [path, layer.name] and cells[3] == str(layer.units)
        params = sum(t.array.size for t in layer.tensors)
        max_abs = max(t.stats.abs_max for t in layer.tensors if t.stats.abs_max is not None)
        assert cells[-3:] == [str(params), f"{max_abs:.4g}", "0"]
    inferred = run("inspect", str(FIXTURES / "tf_keras" / "zoo_weights.h5"), "--format", "summary")[1]
    assert " LSTM* " in inferred  # no config: the class is inferred from the shapes


def test_summary_fits_80_columns_on_a_terminal_width() -> None:
    folders = [str(FIXTURES)] + ([str(REALWORLD / "files")] if REALWORLD.is_dir() else [])
    _, out, err = run("inspect", *folders, "--output-format", "summary", columns=80)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["layer", "class", "units"]
    rows = [line for line in lines[1:] if line.startswith("  ")]
    assert all(line.startswith("kernelsplit: error: ") for line in err.splitlines())  # refused fixtures
    assert rows and all(len(line) <= 80 for line in rows)
    headings = [
        line
        for line in lines
        if not line.startswith((" ", "skipped", "(")) and not line.endswith(": no recurrent layers")
    ]
    assert all(Path(line).exists() for line in headings), "grouped under whole, unwrapped file paths"
    natural = run("inspect", *folders, "--output-format", "summary")[1].splitlines()
    flat = [
        line for line in natural[1:] if not line.startswith("skipped ") and not line.endswith(": no recurrent layers")
    ]
    assert len(flat) == len(rows), "one line per layer either way"


@pytest.mark.parametrize("columns", [None, 40])
def test_summary_row_with_nan_keeps_a_file_newline_escaped_on_one_line(tmp_path: Path, columns: int | None) -> None:
    hostile = _renamed_copy(RULES / "nan.keras", tmp_path / "hostile.keras", "enc", HOSTILE_NAME)
    status, out, _ = run("inspect", str(hostile), "--output-format", "summary", columns=columns)
    assert status == 0
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f\u202e]", out)
    rows = [line for line in out.splitlines() if "RED" in line]
    assert len(rows) == 1 and HOSTILE_SHOWN in rows[0] and rows[0].rstrip().endswith("1/0"), out


@pytest.mark.parametrize(
    ("args", "columns"),
    [(["inspect", str(ZOO_TFK)], 80), (["inspect", str(FIXTURES), "--format", "summary"], 40)],
    ids=["text", "summary"],
)
def test_notes_about_hidden_columns_wrap_to_the_width(args: list[str], columns: int) -> None:
    lines = run(*args, columns=columns)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("(hidden to fit"))
    end = next(i for i in range(start, len(lines)) if lines[i].endswith(")"))
    note = lines[start : end + 1]
    assert len(note) > 1 and all(len(line) <= columns for line in note), note
    assert " ".join(note).endswith(("--wide shows every column)", "--wide shows them)"))


# --- a closed stdout ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["inspect", str(FIXTURES / "keras3"), str(FIXTURES / "tf_keras")], 0),
        (["check", str(RULES / "nan.keras"), "--format", "json"], 1),  # check keeps its verdict
    ],
)
def test_a_closed_stdout_ends_the_run_quietly(args: list[str], code: int) -> None:
    """``kernelsplit inspect … | head`` under ``set -o pipefail``: no traceback, no "Exception
    ignored", and exit 0 (click alone exits 1, the code for findings)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "kernelsplit", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first write
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == code
    assert err == ""


def test_a_closed_stdout_after_some_output_in_a_shell_pipeline() -> None:
    if shutil.which("bash") is None or shutil.which("head") is None:
        pytest.skip("needs bash and head")
    command = f"set -o pipefail; {sys.executable} -m kernelsplit inspect {FIXTURES} | head -n 3"
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3 and done.stderr == ""


def test_json_is_untouched_by_the_width() -> None:
    narrow = run("inspect", str(ZOO_TFK), "--format", "json", columns=20)[1]
    assert json.loads(narrow) == json.loads(run("inspect", str(ZOO_TFK), "--format", "json")[1])
