"""Filters every command shares: precise messages, Bidirectional wrappers and the names Keras gave
the wrapped layers, and in JSON an ``error`` object whenever the exit code says the filters matched
nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from support.fixtures import find_layer, open_cached, record_cases
from support.paths import FIXTURES, SCHEMAS

from kernelsplit.analysis.select import Selection
from kernelsplit.cli import cli

ZOO_K3 = FIXTURES / "keras3" / "zoo.keras"
ZOO_TFK = FIXTURES / "tf_keras" / "zoo.h5"
INSPECT_SCHEMA = json.loads((SCHEMAS / "inspect-1.json").read_text())


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": None}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def selected(path: Path, *filters: str) -> list[str]:
    status, out, err = run("inspect", str(path), "--format", "json", *filters)
    assert status == 0, err
    return [layer["name"] for layer in json.loads(out)["artifacts"][0]["layers"]]


# --- one message per mistake, the same in every command -------------------------------------------


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            ["--layer", "gru_ra_true", "--gate", "f"],
            "gate f does not exist in the layers matching --layer gru_ra_true "
            "(gru: z (update) r (reset) h (candidate))",
        ),
        (["--layer", "my_lstn"], "no layer matches --layer my_lstn; layers: my_lstm, "),
        (
            ["--layer", "my_lstm", "--part", "recurrent_bias"],
            "no gate block matches --part recurrent_bias in the selected layers "
            "(parts: lstm: kernel recurrent_kernel bias)",
        ),
    ],
)
def test_inspect_and_export_say_the_same_thing(tmp_path: Path, filters: list[str], message: str) -> None:
    lines = []
    for command in (["inspect"], ["inspect", "--format", "json"], ["export", "-o", str(tmp_path / "x")]):
        status, _, err = run(*command, str(ZOO_K3), *filters)
        assert status == 2
        assert err.startswith(f"kernelsplit: error: {ZOO_K3}: {message}"), err
        lines.append(err)
    assert len(set(lines)) == 1


def test_explain_says_the_same_as_inspect() -> None:
    status, _, err = run("explain", str(ZOO_K3), "--layer", "my_lstn")
    assert status == 2 and err == run("inspect", str(ZOO_K3), "--layer", "my_lstn")[2]
    assert run("explain", str(ZOO_TFK), "--layer", "inner_lstm")[0] == 0  # a Bidirectional's inner name


def test_unknown_layer_lists_the_closest_names_first() -> None:
    _, _, err = run("inspect", str(ZOO_K3), "--layer", "gru_ra")
    names = err.split("layers: ", 1)[1].split(", ")
    assert names[:2] == ["gru_ra_true", "gru_ra_false"]
    assert "my_lstm" in names and len(names) >= 12


def test_json_gives_an_error_object_when_nothing_matches() -> None:
    status, out, err = run("inspect", str(ZOO_K3), str(ZOO_TFK), "--layer", "nothing_like_this", "--format", "json")
    assert status == 2
    document = json.loads(out)
    jsonschema.validate(document, INSPECT_SCHEMA)
    assert document["error"]["code"] == "nothing-matched"
    assert err == f"kernelsplit: error: {ZOO_K3}: {document['error']['message']}\n"
    assert [a["error"] for a in document["artifacts"]] == [None, None]
    # matching in one file of two is not an error
    status, out, _ = run("inspect", str(ZOO_K3), str(FIXTURES / "keras3" / "seq_dedup.keras"), "--layer", "my_lstm",
                         "--format", "json")  # fmt: skip
    assert status == 0 and json.loads(out)["error"] is None


# --- Bidirectional and nested names ---------------------------------------------------------------


@pytest.mark.parametrize("path", [ZOO_K3, ZOO_TFK, FIXTURES / "tf_keras" / "zoo.keras", FIXTURES / "keras3" / "zoo.h5"])
def test_a_bidirectional_is_selected_by_its_wrapper_and_its_inner_names(path: Path) -> None:
    both = ["bidi/forward", "bidi/backward"]
    assert selected(path, "--layer", "bidi") == both
    assert selected(path, "--layer", "bidi/*") == both
    assert selected(path, "--layer", "inner_lstm") == both
    assert selected(path, "--layer", "forward_inner_lstm") == ["bidi/forward"]
    assert selected(path, "--layer", "backward_inner_lstm") == ["bidi/backward"]
    assert selected(path, "--layer", "bidi/backward") == ["bidi/backward"]


def test_a_nested_model_is_selected_by_its_name() -> None:
    assert selected(ZOO_K3, "--layer", "mid_func") == ["mid_func/inner_func/deep_gru"]
    assert selected(ZOO_K3, "--layer", "deep_gru") == ["mid_func/inner_func/deep_gru"]
    assert selected(ZOO_K3, "--layer", "stacked") == ["stacked/st_lstm", "stacked/st_gru"]


def _bidirectional_records() -> list[Any]:
    """Directions of Bidirectionals in files with a config. Not CuDNN ones: their records come from
    the model Keras converts them into (``forward_gru``), not from the file (``cu_dnngru``)."""
    return [
        case
        for case in record_cases(lambda r: r.get("direction") is not None and not r.get("cudnn"), None)
        if case.values[1]["has_config"]
    ]


@pytest.mark.parametrize(("folder", "entry", "model", "record"), _bidirectional_records())
def test_keras_runtime_name_of_every_direction_selects_it(
    folder: Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any]
) -> None:
    """Keras names a Bidirectional's layers forward_<inner> / backward_<inner> (the fixture records
    hold Keras's own name): --layer with it selects exactly that direction, in every format."""
    artifact = open_cached(str(folder / entry["path"]))
    layer = find_layer(artifact, record["kernel_sha256"], record["key"])
    chosen = Selection(layers=(record["keras_name"],)).apply(artifact)
    assert [found.name for found, _ in chosen] == [layer.name]


def test_export_with_the_wrapper_name_exports_both_directions(tmp_path: Path) -> None:
    status, _, err = run("export", str(ZOO_TFK), "--layer", "bidi", "--layout", "pytorch", "-o", str(tmp_path / "o"))
    assert status == 0, err
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert [[layer["name"] for layer in g["layers"]] for g in manifest["groups"]] == [["bidi/forward", "bidi/backward"]]
