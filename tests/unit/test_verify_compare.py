"""``verify`` without TensorFlow: the comparison, the verdicts and exit codes, refusals before Keras
runs, and the one-line hint when the extra is not installed. (tests/proofs/test_verify_keras.py runs it
against real Keras.)"""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from support.fixtures import open_cached
from support.paths import FIXTURES, SCHEMAS

import kernelsplit.verify as verify_module
from kernelsplit.cli import cli
from kernelsplit.exitcodes import ExitCode
from kernelsplit.model import RecurrentLayer
from kernelsplit.render.verify import reporter
from kernelsplit.verify import FileCheck, VerifyReport, compare, verify

CONV = FIXTURES / "keras3" / "convlstm2d.keras"
ZOO = FIXTURES / "tf_keras" / "zoo.h5"


def _fake_keras_answer(layers: list[RecurrentLayer]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """What the worker would report if Keras held exactly kernelsplit's blocks and computed the reference."""
    arrays: dict[str, np.ndarray] = {}
    records = []
    rng = np.random.default_rng(0)
    for index, layer in enumerate(layers):
        parts = [part for part in ("kernel", "recurrent_kernel", "bias") if part in layer.parts]
        dtype = layer.tensors[0].dtype  # bfloat16 travels as its raw 16-bit words, as the worker sends it
        infos = []
        for k, part in enumerate(parts):
            arrays[f"{index}/w{k}"] = layer.fused(part, stored=True)
            if part == "bias" and "recurrent_bias" in layer.parts:  # a GRU reset_after bias: (2, 3u)
                arrays[f"{index}/w{k}"] = np.stack(
                    [arrays[f"{index}/w{k}"], layer.fused("recurrent_bias", stored=True)]
                )
            infos.append({"key": f"{index}/w{k}", "dtype": dtype, "shape": list(arrays[f"{index}/w{k}"].shape)})
        x = rng.uniform(-1, 1, (2, 4, layer.input_dim or 1)).astype(np.float32)
        arrays[f"{index}/x"] = x
        arrays[f"{index}/y"] = np.asarray(layer.forward(x, return_sequences=True).output)
        records.append(
            {
                "path": layer.name,
                "class_name": layer.class_name,
                "name": layer.name,
                "return_sequences": True,
                "return_state": False,
                "compute_dtype": "float32",
                "cells": [{"direction": None, "name": layer.name, "class_name": layer.class_name, "weights": infos}],
                "input": {"key": f"{index}/x", "dtype": "float32"},
                "outputs": [{"key": f"{index}/y", "dtype": "float64"}],
            }
        )
    return {"path": "x", "loaded": True, "error": None, "versions": {"keras": "3"}, "layers": records}, arrays


def _simple_layers() -> tuple[Any, list[RecurrentLayer]]:
    art = open_cached(str(FIXTURES / "keras3" / "bfloat16.keras"))
    return art, [layer for layer in art.layers if layer.cell in ("lstm", "gru", "simple_rnn")]


def test_matching_blocks_and_outputs_verify() -> None:
    art, layers = _simple_layers()
    answer, arrays = _fake_keras_answer(layers)
    checked = compare(art, answer, arrays)
    assert checked.status == "ok" and checked.exit_code == ExitCode.OK
    assert all(layer.bit_exact and layer.ok and layer.forward_error == 0.0 for layer in checked.layers)


def test_a_different_block_or_output_is_a_mismatch() -> None:
    art, layers = _simple_layers()
    answer, arrays = _fake_keras_answer(layers)
    first = answer["layers"][0]
    kernel = arrays[first["cells"][0]["weights"][0]["key"]]
    kernel[0, 0] ^= 1  # one bit of Keras's first kernel block (raw bfloat16 words)
    arrays[first["outputs"][0]["key"]] = arrays[first["outputs"][0]["key"]] + 1.0
    checked = compare(art, answer, arrays)
    assert checked.status == "mismatch" and checked.exit_code == ExitCode.FINDINGS
    bad = checked.layers[0]
    assert not bad.bit_exact and [(d.part, d.gate) for d in bad.differences] == [("kernel", layers[0].gates[0])]
    assert bad.forward_error is not None and bad.forward_error >= 1.0
    assert all(layer.ok for layer in checked.layers[1:])


def test_a_layer_only_one_side_has_is_a_mismatch() -> None:
    art, layers = _simple_layers()
    answer, arrays = _fake_keras_answer(layers[:1])
    checked = compare(art, answer, arrays)
    assert checked.status == "mismatch" and set(checked.unmatched) == {layer.name for layer in layers[1:]}


def test_exit_codes_error_wins_over_mismatch_wins_over_ok() -> None:
    def report(*statuses: str) -> VerifyReport:
        return VerifyReport([FileCheck(f"f{i}", status=s) for i, s in enumerate(statuses)], seed=0)

    assert report("ok", "ok").exit_code == ExitCode.OK
    assert report("ok", "mismatch").exit_code == ExitCode.FINDINGS
    assert report("mismatch", "not-loaded").exit_code == ExitCode.ERROR
    assert report("ok", "error").exit_code == ExitCode.ERROR


def test_refusals_happen_before_any_keras_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any) -> Any:
        raise AssertionError("Keras must not run for refused files")

    monkeypatch.setattr(verify_module, "run_keras", never)
    report = verify([str(ZOO), str(FIXTURES / "keras3" / "zoo.weights.h5"), str(FIXTURES / "nope.h5")])
    statuses = [(f.status, f.reason) for f in report.files]
    assert (
        statuses[0][0] == "not-loaded"
        and "--trust-code" in str(statuses[0][1])
        and "lam (Lambda)" in str(statuses[0][1])
    )
    assert statuses[1] == ("not-loaded", "a weights-only file: it holds no model for Keras to load")
    assert statuses[2][0] == "error"
    assert report.exit_code == ExitCode.ERROR
    document = io.StringIO()
    reporter("json").write(report, document)
    jsonschema.validate(json.loads(document.getvalue()), json.loads((SCHEMAS / "verify-1.json").read_text()))


def test_without_the_extra_one_line_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = verify_module.importlib.util.find_spec

    def no_tensorflow(name: str, *args: Any) -> Any:
        return None if name.split(".")[0] in ("tensorflow", "keras", "tf_keras") else real(name, *args)

    monkeypatch.setattr(verify_module.importlib.util, "find_spec", no_tensorflow)
    result = CliRunner().invoke(cli, ["verify", str(CONV)], catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and "pip install 'kernelsplit[keras]'" in lines[0]
        and lines[0].startswith("kernelsplit: error:")
    )


def test_cli_reports_refused_files_one_line_each() -> None:
    result = CliRunner().invoke(cli, ["verify", str(ZOO), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.count("kernelsplit: error:") == 1 and "--trust-code" in result.stderr
    assert json.loads(result.stdout)["files"][0]["status"] == "not-loaded"
