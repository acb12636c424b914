"""``kernelsplit explain`` through click's CliRunner, on real fixture files."""

from __future__ import annotations

import json

import jsonschema
from click.testing import CliRunner
from support.paths import FIXTURES, SCHEMAS

from kernelsplit.cli import cli

ZOO_TFK = FIXTURES / "tf_keras" / "zoo.h5"
SCHEMA = json.loads((SCHEMAS / "explain-1.json").read_text(encoding="utf-8"))


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_how_is_w_f_used() -> None:
    """The README's answer: the forget gate's equation, and W_f's exact place in the file."""
    result = run("explain", str(ZOO_TFK), "--layer", "my_lstm")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "f_t = sigmoid(x_t·W_f + h_{t-1}·U_f + b_f)" in out
    assert "c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t" in out
    assert "W_f  model_weights/my_lstm/my_lstm/lstm_cell/kernel:0[:, 4:8]  3×4  float32" in out
    assert "recurrent_activation sigmoid (config) = 1 / (1 + exp(-x)) in tf.keras 2.21.0" in out
    assert "\x1b[" not in out


def test_json_is_alone_on_stdout_and_fits_the_schema() -> None:
    result = run("explain", "--format", "json", str(ZOO_TFK), str(FIXTURES / "legacy" / "cudnn.h5"))
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["schema"] == "kernelsplit.explain/1"
    assert [len(a["layers"]) > 0 for a in document["artifacts"]] == [True, True]


def test_markdown_has_a_section_and_a_terms_table_per_layer() -> None:
    result = run("explain", "--format", "markdown", str(ZOO_TFK), "--layer", "my_*")
    assert result.exit_code == 0
    out = result.stdout
    assert out.count("### `my_") == out.count("| term | meaning | stored tensor |") >= 1
    assert "```text" in out


def test_unreadable_files_are_one_line_each_and_the_rest_is_explained(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    result = run("explain", str(bad), str(ZOO_TFK), "--layer", "my_lstm")
    assert result.exit_code == 2
    assert result.stderr.count("kernelsplit: error:") == 1 and str(bad) in result.stderr
    assert "my_lstm" in result.stdout


def test_a_layer_filter_matching_nothing_is_an_error() -> None:
    result = run("explain", str(ZOO_TFK), "--layer", "nope")
    assert result.exit_code == 2 and "no layer matches" in result.stderr


def test_help_lists_explain() -> None:
    assert "explain" in run("--help").stdout
