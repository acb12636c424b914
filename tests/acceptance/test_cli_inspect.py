"""``kernelsplit inspect`` through click's CliRunner, on real fixture files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES, REPO

import kernelsplit
from kernelsplit.cli import cli

ZOO_K3 = FIXTURES / "keras3" / "zoo.keras"
ZOO_TFK = FIXTURES / "tf_keras" / "zoo.h5"
DENSE = FIXTURES / "keras3" / "dense_only.keras"
SCHEMA = json.loads((REPO / "kernelsplit" / "schemas" / "inspect-1.json").read_text())


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_json_is_valid_against_the_pinned_schema_and_alone_on_stdout() -> None:
    result = run("inspect", "--format", "json", str(ZOO_K3), str(ZOO_TFK))
    assert result.exit_code == 0
    document = json.loads(result.stdout)  # nothing but JSON on stdout
    jsonschema.validate(document, SCHEMA)
    assert document["schema"] == "kernelsplit.inspect/1"
    assert document["kernelsplit_version"] == kernelsplit.__version__
    assert [a["format"] for a in document["artifacts"]] == ["keras-zip", "h5-full"]


def test_json_digests_equal_library_digests() -> None:
    document = json.loads(run("inspect", "--format", "json", str(ZOO_TFK)).stdout)
    artifact = kernelsplit.open(ZOO_TFK)
    reported = {
        (layer["name"], t["part"], t["gate"]): t["sha256"]
        for layer in document["artifacts"][0]["layers"]
        for t in layer["tensors"]
    }
    expected = {(layer.name, t.part, t.gate): t.sha256 for layer in artifact.layers for t in layer.tensors}
    assert reported == expected


def test_table_names_every_gate_and_slice() -> None:
    result = run("inspect", str(ZOO_K3), "--layer", "my_lstm", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    out = result.stdout
    assert "my_lstm" in out and "LSTM" in out
    for gate_label in ("i (input)", "f (forget)", "c (cell candidate)", "o (output)"):
        assert gate_label in out
    assert "[:, 4:8]" in out  # the forget gate's columns of the fused kernel
    assert "\x1b[" not in out  # no colour when not a terminal


def test_filters_by_glob_gate_and_part() -> None:
    result = run(
        "inspect", "--format", "json", str(ZOO_K3), "--layer", "bidi/*", "--gate", "f", "--part", "recurrent_kernel"
    )
    layers = json.loads(result.stdout)["artifacts"][0]["layers"]
    assert sorted(layer["name"] for layer in layers) == ["bidi/backward", "bidi/forward"]
    assert all([(t["part"], t["gate"]) for t in layer["tensors"]] == [("recurrent_kernel", "f")] for layer in layers)


def test_unknown_gate_lists_the_valid_ones() -> None:
    result = CliRunner().invoke(cli, ["inspect", str(ZOO_K3), "--gate", "x"])
    assert result.exit_code == 2
    assert "i (input)" in result.stderr and "z (update)" in result.stderr


def test_filters_matching_nothing_exit_2() -> None:
    result = run("inspect", str(ZOO_K3), "--layer", "no_such_layer")
    assert result.exit_code == 2
    assert "no layer" in result.stderr


def test_model_without_recurrent_layers_is_not_an_error() -> None:
    result = run("inspect", str(DENSE))
    assert result.exit_code == 0
    assert "no recurrent layers" in result.stdout


def test_no_color_env_and_python_m(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "kernelsplit", "inspect", str(ZOO_TFK)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "\x1b[" not in completed.stdout
    assert "recurrent_kernel" in completed.stdout


@pytest.mark.parametrize("fixture", [ZOO_K3, ZOO_TFK])
def test_lambda_layer_is_reported_not_run(fixture: Path) -> None:
    artifact = kernelsplit.open(fixture)
    assert any("Lambda" in name for name in artifact.executable_layers)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.replace("┃", "│").split("│")]


def test_narrow_terminal_drops_columns_by_priority_never_digits() -> None:
    """At 60 columns the table keeps part, gate, slice, abs max, NaN and Inf, whole; rich alone
    would elide digits ('-0.15…') or fold them over two lines."""
    wide = run("inspect", str(ZOO_TFK), "--layer", "my_lstm", env={"COLUMNS": "250"}).stdout
    narrow = run("inspect", str(ZOO_TFK), "--layer", "my_lstm", env={"COLUMNS": "60"}).stdout
    assert "…" not in narrow
    table = [line for line in narrow.splitlines() if "│" in line or "┃" in line]
    assert table and all(len(line) <= 60 for line in table)
    assert _cells(table[0]) == ["part", "gate", "slice", "abs max", "NaN", "Inf"]
    full = [_cells(line) for line in wide.splitlines() if "│" in line or "┃" in line]
    keep = [full[0].index(h) for h in _cells(table[0]) if h != "gate"]
    assert [[row[i] for i in keep] for row in full] == [
        [row[i] for i, h in enumerate(_cells(table[0])) if h != "gate"] for row in map(_cells, table)
    ]
    note = "(hidden to fit 60 columns: L2, zeros, std, mean, dtype, min, max, shape; gates by letter;"
    assert note in " ".join(narrow.splitlines())  # wrapped to the width like every message
    # the stored paths are never wrapped, even when wider than the terminal
    assert "recurrent_kernel: model_weights/my_lstm/my_lstm/lstm_cell/recurrent_kernel:0\n" in narrow
    assert run("inspect", str(ZOO_TFK), "--layer", "my_lstm", "--wide", env={"COLUMNS": "60"}).stdout == wide


def test_quoted_globs_expand_like_check() -> None:
    result = run("inspect", "--format", "json", str(FIXTURES / "keras3" / "conv*.keras"))
    paths = [a["path"] for a in json.loads(result.stdout)["artifacts"]]
    assert paths == sorted(str(p) for p in (FIXTURES / "keras3").glob("conv*.keras"))
    assert len(paths) == 3


def test_lambda_bytecode_that_would_write_a_file_is_never_run(tmp_path: Path) -> None:
    """Plant Lambda bytecode with a side effect, as Keras's func_dump stores it, then inspect.

    tf-keras 2.21's load_model would marshal.loads and call it (docs/formats.md, "Hostile files"); kernelsplit must
    only list the layer.
    """
    import base64
    import marshal
    import shutil

    import h5py

    canary = tmp_path / "pwned"
    payload = compile(f"open({str(canary)!r}, 'w').write('ran')", "<lambda>", "exec")
    path = Path(shutil.copy(ZOO_TFK, tmp_path / "evil.h5"))
    with h5py.File(path, "r+") as h5:
        config = json.loads(h5.attrs["model_config"])
        lam = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Lambda")
        lam["config"]["function"] = [base64.b64encode(marshal.dumps(payload)).decode(), None, None]
        h5.attrs["model_config"] = json.dumps(config)
    for command in (["inspect"], ["inspect", "--format", "json"], ["check"], ["export", "-o", str(tmp_path / "x")]):
        CliRunner().invoke(cli, [*command, str(path)])
    assert not canary.exists()
    assert kernelsplit.open(path).executable_layers == ["lam (Lambda)"]
