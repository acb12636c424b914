"""The onnx export, run as LSTM / GRU / RNN nodes by onnx.reference.ReferenceEvaluator, reproduces Keras.

W, R, B are read back from the exported files; node attributes (direction, hidden_size,
linear_before_reset) come from the manifest. Covers GRU linear_before_reset 0 and 1, a
Bidirectional as one ``direction="bidirectional"`` node and go_backwards as ``direction="reverse"``.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import pytest
from support.exporting import FAMILIES, cached_exporter, group_arrays, group_of
from support.fixtures import ATOL, find_layer, open_cached, oracle, record_cases
from support.paths import FIXTURES

onnx = pytest.importorskip("onnx")
helper = onnx.helper
TensorProto = onnx.TensorProto
ReferenceEvaluator = pytest.importorskip("onnx.reference").ReferenceEvaluator


def onnx_supported(record: dict[str, Any]) -> bool:
    cells = record.get("cells") or [record]
    return all(
        c["cell"] in ("lstm", "gru", "simple_rnn")
        and c.get("activation", "tanh") == "tanh"
        and c.get("recurrent_activation") in (None, "sigmoid")
        for c in cells
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return cached_exporter(tmp_path_factory, "onnx")


def run_node(group: dict[str, Any], arrays: dict[str, np.ndarray], x_btf: np.ndarray) -> tuple[np.ndarray, ...]:
    """Run one node on a batch-first input; returns (Y [T, D, B, H], Y_h [D, B, H])."""
    target = group["target"]
    names = target["inputs"]
    node = helper.make_node(target["op_type"], ["X", *names], ["Y", "Y_h"], **target["attributes"])
    feeds = {"X": np.ascontiguousarray(x_btf.transpose(1, 0, 2), dtype=np.float32)}
    feeds.update({n: np.asarray(arrays[n], dtype=np.float32) for n in names})
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape)) for n, v in feeds.items()],
        [
            helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, None, None, None]),
            helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [None, None, None]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    y, y_h = ReferenceEvaluator(model).run(None, feeds)
    return np.asarray(y), np.asarray(y_h)


def run_record(
    folder: pathlib.Path,
    entry: dict[str, Any],
    model: dict[str, Any],
    record: dict[str, Any],
    out: pathlib.Path,
    manifest: dict[str, Any],
    fmt: str,
) -> tuple[np.ndarray, np.ndarray]:
    art = open_cached(str(folder / entry["path"]))
    keras_io = oracle(str(folder / model["oracle"]))
    x = keras_io[f"{record['key']}/input"].astype(np.float32)
    want = keras_io[f"{record['key']}/output"]
    if record.get("direction") in ("forward", "backward"):
        layer = find_layer(art, record["kernel_sha256"], record["key"])
        group = group_of(manifest, layer.name)
        assert group["target"]["attributes"]["direction"] == "bidirectional"
        y, _ = run_node(group, group_arrays(out, manifest, group["name"], fmt), x)
        index = [lay["name"] for lay in group["layers"]].index(layer.name)
        seq = y[:, index].transpose(1, 0, 2)  # (B, T, H), input time order
        if record["direction"] == "backward":  # Keras returns the backward layer in processing order
            seq = seq[:, ::-1]
        return (seq if record["return_sequences"] else seq[:, -1]), want
    seq = x
    for i, cell in enumerate(record.get("cells") or [record]):
        layer = find_layer(art, cell["kernel_sha256"], f"{record['key']}[{i}]")
        group = group_of(manifest, layer.name)
        direction = group["target"]["attributes"]["direction"]
        if record["go_backwards"] and direction == "forward":  # weights-only file: go_backwards unknown
            assert any("go_backwards not stored" in note for note in group["notes"])
            seq = seq[:, ::-1] if i == 0 else seq
        else:
            assert direction == ("reverse" if record["go_backwards"] else "forward")
        y, _ = run_node(group, group_arrays(out, manifest, group["name"], fmt), seq)
        seq = y[:, 0].transpose(1, 0, 2)
        if direction == "reverse":  # ONNX: input time order; Keras go_backwards: processing order
            seq = seq[:, ::-1]
    return (seq if record["return_sequences"] else seq[:, -1]), want


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases(onnx_supported, FAMILIES))
def test_onnx_node_reproduces_keras(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any], exported: Any
) -> None:
    out, manifest = exported(folder / entry["path"], "npz")
    got, want = run_record(folder, entry, model, record, out, manifest, "npz")
    assert got.shape == want.shape
    atol = max(ATOL[c.get("dtype", "float32")] for c in (record.get("cells") or [record]))
    err = float(np.max(np.abs(got - want)))
    assert err <= atol, f"max |onnx - keras| = {err:.3g} > {atol}"


def test_gru_linear_before_reset_follows_reset_after(exported: Any) -> None:
    folder = FIXTURES / "keras3"
    _, manifest = exported(folder / "zoo.keras", "npz")
    assert group_of(manifest, "gru_ra_true")["target"]["attributes"]["linear_before_reset"] == 1
    assert group_of(manifest, "gru_ra_false")["target"]["attributes"]["linear_before_reset"] == 0
    b = [a for a in manifest["arrays"] if a["group"] == "gru_ra_false" and a["key"] == "B"]
    assert b and b[0]["zero_filled"] and b[0]["shape"] == [1, 18]


def test_wrong_linear_before_reset_would_not_match(exported: Any) -> None:
    """Negative control: the reset_after=False GRU run with linear_before_reset=1 misses Keras."""
    folder = FIXTURES / "keras3"
    out, manifest = exported(folder / "zoo.keras", "npz")
    group = group_of(manifest, "gru_ra_false")
    wrong = {
        **group,
        "target": {**group["target"], "attributes": {**group["target"]["attributes"], "linear_before_reset": 1}},
    }
    keras_io = oracle(str(folder / "zoo.npz"))
    _, y_h = run_node(
        wrong, group_arrays(out, manifest, "gru_ra_false", "npz"), keras_io["gru_ra_false/input"].astype(np.float32)
    )
    assert float(np.max(np.abs(y_h[0] - keras_io["gru_ra_false/output"]))) > 1e-3


@pytest.mark.parametrize("fmt", ["npy", "csv", "json", "safetensors"])
def test_onnx_from_every_format(fmt: str, exported: Any) -> None:
    for case in record_cases(onnx_supported, FAMILIES):
        folder, entry, model, record = case.values
        if f"{folder.name}/{entry['path']}" != "keras3/zoo.keras":
            continue
        out, manifest = exported(folder / entry["path"], fmt)
        got, want = run_record(folder, entry, model, record, out, manifest, fmt)
        assert float(np.max(np.abs(got - want))) <= 1e-5, record["key"]
