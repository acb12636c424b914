"""``diff`` calls two layers *equivalent* exactly when Keras computes the same function with them.

The pairs are real files: a tf-keras CuDNN model and the plain LSTM/GRU model tf-keras converts it
into (``cudnn_converted.h5``), a Keras 1 model and tf-keras's re-save of it (``k1_resaved.h5``),
and that re-save's weights loaded into the same architecture in Keras 3 (``k1_keras3.keras``,
where ``hard_sigmoid`` computes another function). Each verdict is checked against the outputs
Keras itself recorded for both sides on the same inputs (the fixtures' oracles), and the GRU rule
(z and r biases add up; h's halves are used apart) against the reference forward pass on files
whose bias halves were moved.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from reference_rnn import run_record
from support.fixtures import load_json, oracle, params_of
from support.paths import FIXTURES, REPO

import kernelsplit
from kernelsplit.analysis.diff import DiffVerdict, diff_artifacts
from kernelsplit.cli import cli

LEGACY = FIXTURES / "legacy"
MANIFEST = load_json(LEGACY / "manifest.json")
DIFF_SCHEMA = json.loads((REPO / "kernelsplit" / "schemas" / "diff-1.json").read_text())

#: (old file, new file, models whose oracles the files hold)
EQUIVALENT_PAIRS = [
    ("cudnn.h5", "cudnn_converted.h5", ("cudnn", "cudnn_converted")),
    ("cudnn_weights.h5", "cudnn_converted.h5", ("cudnn", "cudnn_converted")),
    ("k1_th.h5", "k1_resaved.h5", ("keras1", "keras1")),
    ("k1_tf.h5", "k1_resaved.h5", ("keras1", "keras1")),
    ("k1_th_weights.h5", "k1_resaved.h5", ("keras1", "keras1")),
]


def _diff_json(old: Path, new: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "json"], catch_exceptions=False)
    data = json.loads(result.stdout)
    jsonschema.validate(data, DIFF_SCHEMA)
    return result.exit_code, data


def _outputs(model_id: str) -> dict[str, np.ndarray]:
    return oracle(str(LEGACY / MANIFEST["models"][model_id]["oracle"]))


@pytest.mark.parametrize(("old", "new", "models"), EQUIVALENT_PAIRS)
def test_converted_and_resaved_models_are_equivalent_not_breaking(old: str, new: str, models: tuple) -> None:
    status, data = _diff_json(LEGACY / old, LEGACY / new)
    assert (status, data["verdict"], data["breaking"]) == (0, "equivalent", [])
    assert {layer["status"] for layer in data["layers"]} <= {"identical", "equivalent"}
    for layer in data["layers"]:
        if layer["status"] == "equivalent":
            assert layer["reasons"], f"{layer['name']}: equivalent without a reason"
    # Keras agrees: on the same inputs both models give the same outputs, layer by layer.
    old_io, new_io = _outputs(models[0]), _outputs(models[1])
    keys = [k for k in old_io if k.endswith("/output") and not k.startswith("__")]
    assert keys
    for key in keys:
        np.testing.assert_array_equal(old_io[key.replace("output", "input")], new_io[key.replace("output", "input")])
        assert float(np.max(np.abs(old_io[key] - new_io[key]))) <= 1e-6, key


def test_cudnn_reasons_name_the_summed_bias_halves() -> None:
    report = diff_artifacts(kernelsplit.open(LEGACY / "cudnn.h5"), kernelsplit.open(LEGACY / "cudnn_converted.h5"))
    lstm = next(layer for layer in report.layers if layer.name == "cu_lstm")
    assert lstm.status == "equivalent"
    assert any("add up to the same values for i, f, c, o" in reason for reason in lstm.reasons)
    assert any("CuDNNLSTM and LSTM" in reason for reason in lstm.reasons)
    # Stored bias blocks do differ: the old verdict compared them and failed the diff.
    assert any(t.status in ("changed", "removed") for t in lstm.tensors)


def test_same_weights_under_keras3_hard_sigmoid_are_a_breaking_maths_change() -> None:
    status, data = _diff_json(LEGACY / "k1_resaved.h5", LEGACY / "k1_keras3.keras")
    assert (status, data["verdict"]) == (1, "breaking")
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert all(t["status"] == "identical" for layer in data["layers"] for t in layer["tensors"])  # same bytes
    assert by_name["simplernn_1"]["status"] == "identical"  # tanh is tanh everywhere
    changed = sorted(name for name, layer in by_name.items() if layer["maths_changes"])
    assert changed == ["bidirectional_1/backward", "bidirectional_1/forward", "gru_1", "lstm_1", "lstm_2"]
    change = by_name["lstm_1"]["maths_changes"][0]
    assert change["fact"] == "recurrent_activation"
    assert "0.2·x" in change["old"] and "x/6" in change["new"]
    # Keras agrees: on the same input, the first layer's outputs differ between the generations
    # (later layers see different inputs, so only the first is compared).
    old_io, new_io = _outputs("keras1"), _outputs("keras1_in_keras3")
    np.testing.assert_array_equal(old_io["lstm_1/input"], new_io["lstm_1/input"])
    assert float(np.max(np.abs(old_io["lstm_1/output"] - new_io["lstm_1/output"]))) > 1e-3


# --------------------------------------------------------------- GRU: which halves may be moved


def _gru_bias_dataset(h5: h5py.File) -> h5py.Dataset:
    found: list[h5py.Dataset] = []
    h5["model_weights/bidi_cugru"].visititems(
        lambda name, obj: (
            found.append(obj) if isinstance(obj, h5py.Dataset) and "forward" in name and "bias" in name else None
        )
    )
    assert len(found) == 1 and found[0].shape == (2, 9)
    return found[0]


def _move_bias(tmp_path: Path, gate: int) -> Path:
    """A copy of cudnn_converted.h5 whose forward GRU moves 0.25 from the input-side to the
    recurrent-side bias of one gate (z=0, r=1, h=2): the sum of the halves is unchanged."""
    path = Path(shutil.copy(LEGACY / "cudnn_converted.h5", tmp_path / f"moved_{gate}.h5"))
    with h5py.File(path, "r+") as h5:
        bias = _gru_bias_dataset(h5)
        values = bias[...]
        units = slice(gate * 3, gate * 3 + 3)
        values[0, units] -= 0.25
        values[1, units] += 0.25
        bias[...] = values
    return path


def _forward(path: Path, layer_name: str) -> np.ndarray:
    art = kernelsplit.open(path)
    layer = next(lay for lay in art.layers if lay.name == layer_name)
    record = next(r for r in MANIFEST["models"]["cudnn_converted"]["layers"] if r["key"] == layer_name)
    x = _outputs("cudnn_converted")[f"{layer_name}/input"]
    return run_record(record, x, [params_of(layer)], "tf_keras")


@pytest.mark.parametrize(("gate", "verdict"), [(0, "equivalent"), (1, "equivalent"), (2, "changed")])
def test_gru_z_and_r_biases_add_up_but_h_halves_are_used_apart(tmp_path: Path, gate: int, verdict: str) -> None:
    moved = _move_bias(tmp_path, gate)
    report = diff_artifacts(kernelsplit.open(LEGACY / "cudnn_converted.h5"), kernelsplit.open(moved))
    forward = next(layer for layer in report.layers if layer.name == "bidi_cugru/forward")
    assert forward.status == verdict
    assert report.verdict == (DiffVerdict.EQUIVALENT if verdict == "equivalent" else DiffVerdict.CHANGED)
    # The reference forward pass (proven against Keras in test_forward_pass.py) agrees.
    err = float(
        np.max(
            np.abs(
                _forward(moved, "bidi_cugru/forward") - _forward(LEGACY / "cudnn_converted.h5", "bidi_cugru/forward")
            )
        )
    )
    if verdict == "equivalent":
        assert err <= 1e-6
    else:
        assert err > 1e-3


def test_a_changed_bias_sum_is_not_equivalent(tmp_path: Path) -> None:
    path = Path(shutil.copy(LEGACY / "cudnn_converted.h5", tmp_path / "nudged.h5"))
    with h5py.File(path, "r+") as h5:
        bias = h5["model_weights/cu_lstm/cu_lstm/lstm_cell/bias:0"]
        values = bias[...]
        values[5] += 1e-3  # one forget-gate unit
        bias[...] = values
    report = diff_artifacts(kernelsplit.open(LEGACY / "cudnn.h5"), kernelsplit.open(path))
    lstm = next(layer for layer in report.layers if layer.name == "cu_lstm")
    assert lstm.status == "changed"
    assert lstm.reasons == ["bias[f] + recurrent_bias[f] differs"]
    assert report.verdict == DiffVerdict.BREAKING  # the CuDNN side's recurrent_bias blocks are gone


@pytest.mark.parametrize("layer_name", ["simple", "gru_ra_false"])
def test_one_ulp_on_a_single_stored_bias_is_a_change(tmp_path: Path, layer_name: str) -> None:
    """With one bias per gate on both sides nothing was split, so Keras's rounding of a sum of two
    halves is no excuse: a bias one float32 ulp away computes another function."""
    path = Path(shutil.copy(FIXTURES / "tf_keras" / "zoo.h5", tmp_path / "ulp.h5"))
    cell = {"simple": "simple_rnn_cell", "gru_ra_false": "gru_cell"}[layer_name]
    with h5py.File(path, "r+") as h5:
        bias = h5[f"model_weights/{layer_name}/{layer_name}/{cell}/bias:0"]
        values = bias[...]
        values[0] = np.nextafter(values[0], np.float32(np.inf))
        bias[...] = values
    report = diff_artifacts(kernelsplit.open(FIXTURES / "tf_keras" / "zoo.h5"), kernelsplit.open(path))
    layer = next(found for found in report.layers if found.name == layer_name)
    assert layer.status == "changed"
    assert layer.reasons == [f"bias[{'h' if layer_name == 'simple' else 'z'}] differs"]
