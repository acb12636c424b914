"""The onnx export, run as LSTM / GRU / RNN nodes in onnxruntime, reproduces Keras — or refuses.

W, R, B are read back from the exported files; node attributes (direction, hidden_size,
linear_before_reset, activations with their α/β) come from the manifest. Every Keras activation
ONNX's RNN operators compute exactly is exported with the writing generation's definition
(``hard_sigmoid`` slope 0.2 for Keras 1/2 and tf.keras, 1/6 for Keras 3); the others are refused.
onnxruntime runs every node because the ONNX reference evaluator ignores ``activations``; the
nodes with ONNX's default activations also run in the reference evaluator.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import pytest
from support.exporting import (
    FAMILIES,
    TRUTH_KEYS,
    Exported,
    cached_exporter,
    computable,
    group_arrays,
    group_of,
    manifest_layer,
    truth,
)
from support.fixtures import ATOL, cells_of, find_layer, open_cached, oracle, record_cases
from support.paths import FIXTURES
from support.runtimes import has_default_activations, run_onnx_node

pytest.importorskip("onnxruntime")

LAYOUT = "onnx"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return cached_exporter(tmp_path_factory, LAYOUT)


def run_group(
    done: Exported, group: dict[str, Any], fmt: str, x_btf: np.ndarray, runtime: str = "onnxruntime"
) -> tuple[np.ndarray, ...]:
    assert done.folder is not None and done.manifest is not None
    arrays = group_arrays(done.folder, done.manifest, group["name"], fmt)
    return run_onnx_node(group["target"], arrays, x_btf, runtime)


def run_record(
    folder: pathlib.Path,
    entry: dict[str, Any],
    model: dict[str, Any],
    record: dict[str, Any],
    done: Exported,
    fmt: str,
    runtime: str = "onnxruntime",
) -> tuple[np.ndarray, np.ndarray]:
    assert done.manifest is not None
    art = open_cached(str(folder / entry["path"]))
    keras_io = oracle(str(folder / model["oracle"]))
    x = keras_io[f"{record['key']}/input"].astype(np.float32)
    want = keras_io[f"{record['key']}/output"]
    if record.get("direction") in ("forward", "backward"):
        layer = find_layer(art, record["kernel_sha256"], record["key"])
        group = group_of(done.manifest, layer.name)
        assert group["target"]["attributes"]["direction"] == "bidirectional"
        y, _ = run_group(done, group, fmt, x, runtime)
        index = [lay["name"] for lay in group["layers"]].index(layer.name)
        seq = y[:, index].transpose(1, 0, 2)  # (B, T, H), input time order
        if record["direction"] == "backward":  # Keras returns the backward layer in processing order
            seq = seq[:, ::-1]
        return (seq if record["return_sequences"] else seq[:, -1]), want
    seq = x
    for i, cell in enumerate(cells_of(record)):
        layer = find_layer(art, cell["kernel_sha256"], f"{record['key']}[{i}]")
        group = group_of(done.manifest, layer.name)
        y, _ = run_group(done, group, fmt, seq, runtime)
        seq = y[:, 0].transpose(1, 0, 2)
        if group["target"]["attributes"]["direction"] == "reverse":  # ONNX: input order; Keras: processing
            seq = seq[:, ::-1]
    return (seq if record["return_sequences"] else seq[:, -1]), want


def _atol(record: dict[str, Any]) -> float:
    return max(ATOL[c.get("dtype", "float32")] for c in cells_of(record))


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases(None, FAMILIES))
def test_reproduces_keras_or_refuses_with_a_reason(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any], exported: Any
) -> None:
    path = folder / entry["path"]
    layer = find_layer(open_cached(str(path)), record["kernel_sha256"], record["key"])
    assume = None if entry["has_config"] else "generation-default"
    done = exported(path, "npz", assume)
    reason = done.refused(layer.name)
    if reason is not None:
        assert reason.strip(), "a refusal must say why"
        assert assume is not None or not computable(record, LAYOUT), f"refused although computable: {reason}"
        return
    stated = manifest_layer(done.manifest, layer.name)  # type: ignore[arg-type]
    assert stated is not None
    wrong = [k for k, v in truth(record).items() if k in TRUTH_KEYS and stated["maths"][k]["value"] != v]
    assert all(stated["maths"][k]["origin"] == "assumed" for k in wrong), f"silently wrong: {wrong}"
    got, want = run_record(folder, entry, model, record, done, "npz")
    assert got.shape == want.shape
    err = float(np.max(np.abs(got - want)))
    if not wrong:
        assert computable(record, LAYOUT), "exported a layer ONNX cannot compute"
        assert err <= _atol(record), f"max |onnx - keras| = {err:.3g} > {_atol(record)}"
    else:
        assert err > _atol(record), f"assumed {wrong} yet the output matches Keras"
    if not wrong and all(has_default_activations(g["target"]) for g in _groups_of(done, art_layers(path, record))):
        reference, _ = run_record(folder, entry, model, record, done, "npz", runtime="reference")
        err = float(np.max(np.abs(reference - want)))
        assert err <= _atol(record), f"max |onnx reference evaluator - keras| = {err:.3g}"


def art_layers(path: pathlib.Path, record: dict[str, Any]) -> list[str]:
    art = open_cached(str(path))
    return [find_layer(art, c["kernel_sha256"], record["key"]).name for c in cells_of(record)]


def _groups_of(done: Exported, names: list[str]) -> list[dict[str, Any]]:
    assert done.manifest is not None
    return [group_of(done.manifest, name) for name in names]


@pytest.mark.parametrize(
    ("family", "slope"),
    [("tf_keras", 0.2), ("keras3", 1.0 / 6.0)],
)
def test_hard_sigmoid_takes_the_writing_generations_slope(family: str, slope: float, exported: Any) -> None:
    """lstm_acts (relu, hard_sigmoid): HardSigmoid α is 0.2 from tf-keras, 1/6 from Keras 3."""
    path = FIXTURES / family / ("zoo.h5" if family == "tf_keras" else "zoo.keras")
    done = exported(path, "npz")
    attributes = group_of(done.manifest, "lstm_acts")["target"]["attributes"]
    assert attributes["activations"] == ["HardSigmoid", "Relu", "Relu"]
    assert attributes["activation_alpha"] == pytest.approx([slope])
    assert attributes["activation_beta"] == [0.5]


def test_the_other_generations_slope_would_not_match(exported: Any) -> None:
    """Negative control: the Keras 3 layer computed with Keras 2's hard_sigmoid slope misses Keras."""
    folder = FIXTURES / "keras3"
    done = exported(folder / "zoo.keras", "npz")
    group = group_of(done.manifest, "lstm_acts")
    attributes = {**group["target"]["attributes"], "activation_alpha": [0.2]}
    wrong = {**group, "target": {**group["target"], "attributes": attributes}}
    keras_io = oracle(str(folder / "zoo.npz"))
    y, _ = run_group(done, wrong, "npz", keras_io["lstm_acts/input"].astype(np.float32))
    got = y[:, 0].transpose(1, 0, 2)
    assert float(np.max(np.abs(got - keras_io["lstm_acts/output"]))) > 1e-3


def test_gru_linear_before_reset_follows_reset_after(exported: Any) -> None:
    done = exported(FIXTURES / "keras3" / "zoo.keras", "npz")
    assert group_of(done.manifest, "gru_ra_true")["target"]["attributes"]["linear_before_reset"] == 1
    assert group_of(done.manifest, "gru_ra_false")["target"]["attributes"]["linear_before_reset"] == 0
    b = [a for a in done.manifest["arrays"] if a["group"] == "gru_ra_false" and a["key"] == "B"]
    assert b and b[0]["zero_filled"] and b[0]["shape"] == [1, 18]


def test_wrong_linear_before_reset_would_not_match(exported: Any) -> None:
    """Negative control: the reset_after=False GRU run with linear_before_reset=1 misses Keras."""
    folder = FIXTURES / "keras3"
    done = exported(folder / "zoo.keras", "npz")
    group = group_of(done.manifest, "gru_ra_false")
    attributes = {**group["target"]["attributes"], "linear_before_reset": 1}
    wrong = {**group, "target": {**group["target"], "attributes": attributes}}
    keras_io = oracle(str(folder / "zoo.npz"))
    _, y_h = run_group(done, wrong, "npz", keras_io["gru_ra_false/input"].astype(np.float32))
    assert float(np.max(np.abs(y_h[0] - keras_io["gru_ra_false/output"]))) > 1e-3


@pytest.mark.parametrize("fmt", ["npy", "csv", "json", "safetensors"])
def test_onnx_from_every_format(fmt: str, exported: Any) -> None:
    checked = 0
    for case in record_cases(lambda r: computable(r, LAYOUT), ("keras3",)):
        folder, entry, model, record = case.values
        if f"{folder.name}/{entry['path']}" != "keras3/zoo.keras":
            continue
        got, want = run_record(folder, entry, model, record, exported(folder / entry["path"], fmt), fmt)
        assert float(np.max(np.abs(got - want))) <= 1e-5, record["key"]
        checked += 1
    assert checked >= 8
