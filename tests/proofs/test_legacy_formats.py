"""The legacy fixture family: format detection, refusals with precise messages, and a check that
the h5py-built Keras 1 files follow the same HDF5 conventions as real Keras 1 files.

Gate correctness of every file in ``fixtures/legacy/manifest.json`` is proven by
tests/test_forward_pass.py; this module covers what that test cannot: what must be refused.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import sys
from typing import Any

import h5py
import numpy as np
import pytest
from gen_legacy import write_keras1
from support.paths import FIXTURES
from support.paths import REALWORLD as REALWORLD_ROOT

import kernelsplit
from kernelsplit.errors import CorruptFileError, UnsafeFileError, UnsupportedError

LEGACY = FIXTURES / "legacy"
REALWORLD = REALWORLD_ROOT / "files"

EXPECTED_FORMAT = {
    "cudnn_weights.h5": "h5-weights",
    "cudnn.h5": "h5-full",
    "cudnn_converted.h5": "h5-full",
    "k1_tf.h5": "h5-full",
    "k1_th.h5": "h5-full",
    "k1_th_weights.h5": "h5-weights",
    "k1_resaved.h5": "h5-full",
    "k1_keras3.keras": "keras-zip",
    "k1_convlstm_tf.h5": "h5-full",
    "k1_convlstm_th.h5": "h5-full",
    "k1_convlstm_th_weights.h5": "h5-weights",
    "k0_lstm.h5": "h5-keras0",
    "lcd.keras": "keras-zip",
    "lcd.weights.h5": "keras3-weights-h5",
    "sharded.weights.json": "keras3-sharded-weights",
    "unzipped_keras": "keras-dir",
}


def _manifest() -> dict[str, Any]:
    return json.loads((LEGACY / "manifest.json").read_text(encoding="utf-8"))


def test_every_manifest_file_has_an_expected_format() -> None:
    assert sorted(e["path"] for e in _manifest()["files"]) == sorted(EXPECTED_FORMAT)


@pytest.mark.parametrize(("name", "fmt"), sorted(EXPECTED_FORMAT.items()))
def test_format_detected_by_content(name: str, fmt: str) -> None:
    art = kernelsplit.open(LEGACY / name)
    assert art.format == fmt
    entry = next(e for e in _manifest()["files"] if e["path"] == name)
    # Where no config is stored, every layer says so.
    assert all(layer.inferred for layer in art.layers) == (not entry["has_config"])


@pytest.mark.parametrize("name", ["cudnn.h5", "cudnn_weights.h5"])
def test_cudnn_layers_keep_both_bias_halves(name: str) -> None:
    art = kernelsplit.open(LEGACY / name)
    assert [layer.conversion for layer in art.layers] == ["cudnn"] * 4
    for layer in art.layers:
        assert "recurrent_bias" in layer.parts
    if name == "cudnn.h5":  # a CuDNNLSTM named rnn_1: the config, not the name, says CuDNN
        rnn_1 = next(layer for layer in art.layers if layer.name == "rnn_1")
        assert (rnn_1.class_name, rnn_1.cell, rnn_1.units) == ("CuDNNLSTM", "lstm", 2)
        assert rnn_1.config["recurrent_activation"] == "sigmoid"


@pytest.mark.parametrize("name", ["k1_tf.h5", "k1_th.h5", "k1_th_weights.h5"])
def test_keras1_storages(name: str) -> None:
    art = kernelsplit.open(LEGACY / name)
    by_name = {layer.name: layer for layer in art.layers}
    assert by_name["lstm_1"].conversion == "keras1"  # per-gate i, c, f, o
    assert by_name["gru_1"].conversion == "keras1"
    assert by_name["lstm_2"].conversion is None  # consume_less='gpu': already fused i, f, c, o
    assert [by_name[f"bidirectional_1/{d}"].direction for d in ("forward", "backward")] == ["forward", "backward"]
    assert "timedistributeddense_1" not in by_name
    source = by_name["lstm_1"].tensor("kernel", "f").source
    assert source.endswith("lstm_1_W_f" if "th" in name else "lstm_1_W_f:0")


def test_keras1_config_keys_are_mapped() -> None:
    layer = next(la for la in kernelsplit.open(LEGACY / "k1_tf.h5").layers if la.name == "lstm_1")
    assert layer.config["units"] == 4
    assert layer.config["recurrent_activation"] == "hard_sigmoid"


def test_keras1_convlstm_th_is_transposed() -> None:
    tf_layer = kernelsplit.open(LEGACY / "k1_convlstm_tf.h5").layers[0]
    th_layer = kernelsplit.open(LEGACY / "k1_convlstm_th.h5").layers[0]
    inferred = kernelsplit.open(LEGACY / "k1_convlstm_th_weights.h5").layers[0]
    assert tf_layer.cell == th_layer.cell == inferred.cell == "conv_lstm"
    with h5py.File(LEGACY / "k1_convlstm_th.h5", "r") as h5:
        stored = h5["model_weights/convlstm2d_1/convlstm2d_1_W_f:0"][()]
    np.testing.assert_array_equal(th_layer.tensor("kernel", "f").array, stored.transpose(2, 3, 1, 0))
    for part in ("kernel", "recurrent_kernel", "bias"):
        np.testing.assert_array_equal(th_layer.fused(part), inferred.fused(part))


def test_keras1_convlstm_orientation_ambiguous_without_config(tmp_path: pathlib.Path) -> None:
    """filters == rows == cols == stack: th and tf shapes coincide, and there is no config."""
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(np.float32) for s in [(3, 3, 3, 3), (3, 3, 3, 3), (3,)] * 4]
    names = [f"convlstm2d_1_{letter}_{gate}" for gate in "icfo" for letter in "WUb"]
    path = tmp_path / "ambiguous.h5"
    write_keras1(path, [("convlstm2d_1", list(zip(names, arrays, strict=True)))], theano=False, config=None)
    with pytest.raises(
        UnsupportedError,
        match=r"ConvLSTM2D weights without config: .* fit both "
        r"dim_ordering 'th' and 'tf'",
    ):
        kernelsplit.open(path)


# ----------------------------------------------------------------------------------------------
# Refusals
# ----------------------------------------------------------------------------------------------


def test_keras0_gru_is_refused_precisely() -> None:
    with pytest.raises(UnsupportedError) as info:
        kernelsplit.open(LEGACY / "k0_gru_refused.h5")
    assert info.value.message.startswith("Keras 0.x GRU weights without config: layer_0 holds 9 ")
    assert "JZS3" in info.value.message


def test_keras0_lstm_is_read() -> None:
    art = kernelsplit.open(LEGACY / "k0_lstm.h5")
    assert [(la.cell, la.units, la.conversion, la.inferred) for la in art.layers] == [("lstm", 4, "keras1", True)]


def test_npz_keras_is_refused() -> None:
    with pytest.raises(UnsafeFileError, match=r"model\.weights\.npz.*pickle"):
        kernelsplit.open(LEGACY / "npz_weights.keras")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("k0_gru_refused.h5", "unsupported: Keras 0.x GRU weights without config"),
        ("npz_weights.keras", "unsafe: weights are model.weights.npz"),
    ],
)
def test_cli_refusal_exits_2_without_traceback(name: str, error: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kernelsplit", "inspect", str(LEGACY / name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert error.split(": ", 1)[1] in proc.stderr


def _sharded_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    for path in LEGACY.glob("sharded*.weights.*"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "sharded.weights.json"


def _rewrite_map(index: pathlib.Path, change: Any) -> None:
    data = json.loads(index.read_text(encoding="utf-8"))
    key = sorted(data["weight_map"])[0]
    data["weight_map"][key] = change
    index.write_text(json.dumps(data), encoding="utf-8")


def test_sharded_copy_reads(tmp_path: pathlib.Path) -> None:
    art = kernelsplit.open(_sharded_copy(tmp_path))
    assert len(art.layers) == 4 and all(layer.inferred for layer in art.layers)
    assert any("no config" in note for note in art.notes)


@pytest.mark.parametrize(
    "bad",
    [
        "../sharded_00000.weights.h5",
        "/etc/passwd",
        ["sharded_00001.weights.h5", "sub/sharded_00000.weights.h5"],
        "..",
        "C:\\x.weights.h5",
    ],
)
def test_sharded_map_escaping_folder_is_unsafe(tmp_path: pathlib.Path, bad: Any) -> None:
    (tmp_path / "in").mkdir()
    index = _sharded_copy(tmp_path / "in")
    shutil.copy(index.parent / "sharded_00000.weights.h5", tmp_path / "sharded_00000.weights.h5")
    _rewrite_map(index, bad)
    with pytest.raises(UnsafeFileError, match="outside its own folder"):
        kernelsplit.open(index)


def test_sharded_symlink_out_of_folder_is_unsafe(tmp_path: pathlib.Path) -> None:
    (tmp_path / "in").mkdir()
    index = _sharded_copy(tmp_path / "in")
    outside = tmp_path / "elsewhere.weights.h5"
    (index.parent / "sharded_00000.weights.h5").rename(outside)
    (index.parent / "sharded_00000.weights.h5").symlink_to(outside)
    with pytest.raises(UnsafeFileError, match="symbolic link out of the index's folder"):
        kernelsplit.open(index)


def test_sharded_missing_shard(tmp_path: pathlib.Path) -> None:
    index = _sharded_copy(tmp_path)
    (tmp_path / "sharded_00001.weights.h5").unlink()
    with pytest.raises(CorruptFileError, match=r"missing shard sharded_00001\.weights\.h5"):
        kernelsplit.open(index)


def test_json_that_is_not_a_shard_index(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.weights.json"
    path.write_text('{"metadata": {}}', encoding="utf-8")
    art = kernelsplit.try_open(path)
    assert art.error is not None and art.error.code == "not-a-model"


# ----------------------------------------------------------------------------------------------
# The h5py-built Keras 1 files follow the real Keras 1 files' conventions
# ----------------------------------------------------------------------------------------------

REAL_K1_FULL = REALWORLD / "KonduitAI__dl4j-test-resources" / "src__main__resources__keras__simple__lstm_tf_model.h5"
REAL_K1_TH_FULL = (
    REALWORLD
    / "KonduitAI__dl4j-test-resources"
    / "src__main__resources__modelimport__keras__examples__simple_lstm__simple_lstm_th_keras_1_model.h5"
)
REAL_K1_WEIGHTS = REALWORLD / "FrownyFace__NN" / "lstm_weights.h5"
needs_realworld = pytest.mark.skipif(not REAL_K1_FULL.exists(), reason="../shared/realworld absent")


def _attr_kinds(obj: h5py.Group) -> dict[str, tuple[str, bool | None, int]]:
    """attr name -> (HDF5 type class, variable-length string?, rank)."""
    out = {}
    for name in obj.attrs:
        attr_id = obj.attrs.get_id(name)
        type_id = attr_id.get_type()
        is_vlen = type_id.is_variable_str() if isinstance(type_id, h5py.h5t.TypeStringID) else None
        out[name] = (type(type_id).__name__, is_vlen, len(attr_id.shape))
    return out


def _layer_conventions(root: h5py.Group) -> dict[str, Any]:
    kinds: dict[str, Any] = {"root_attrs": _attr_kinds(root)}
    weights, empty = set(), set()
    for name in root:
        group = root[name]
        if not isinstance(group, h5py.Group):
            continue
        kind = _attr_kinds(group)
        (empty if group.attrs["weight_names"].size == 0 else weights).add(tuple(sorted(kind.items())))
    kinds["weight_names"] = weights
    kinds["empty_weight_names"] = empty
    return kinds


def _weight_names(path: pathlib.Path) -> list[str]:
    names = []
    with h5py.File(path, "r") as h5:
        root = h5.get("model_weights", h5)
        for layer in root:
            names += [n.decode() for n in root[layer].attrs["weight_names"]]
    return names


@needs_realworld
@pytest.mark.parametrize(
    ("ours", "real", "sub"),
    [
        ("k1_tf.h5", REAL_K1_FULL, "model_weights"),
        ("k1_th.h5", REAL_K1_TH_FULL, "model_weights"),
        ("k1_th_weights.h5", REAL_K1_WEIGHTS, ""),
    ],
)
def test_keras1_hdf5_conventions_match_real_files(ours: str, real: pathlib.Path, sub: str) -> None:
    with h5py.File(LEGACY / ours, "r") as mine, h5py.File(real, "r") as theirs:
        mine_root = _attr_kinds(mine)
        theirs_root = _attr_kinds(theirs)
        # Same root attrs with the same HDF5 types (training_config only exists when compiled).
        theirs_root.pop("training_config", None)
        assert mine_root == theirs_root
        assert "keras_version" not in (mine[sub] if sub else mine).attrs
        assert "backend" not in mine.attrs
        a = _layer_conventions(mine[sub] if sub else mine)
        b = _layer_conventions(theirs[sub] if sub else theirs)
        for key in a:  # a category the real file lacks (no weightless layer) proves nothing
            if a[key] and b[key]:
                assert a[key] == b[key], key
        assert a["weight_names"] and a["empty_weight_names"]  # ours exercise both
        if sub:
            assert set(mine.keys()) <= set(theirs.keys())
            mine_cfg = json.loads(mine.attrs["model_config"])
            theirs_cfg = json.loads(theirs.attrs["model_config"])
            assert isinstance(mine_cfg["config"], list) and isinstance(theirs_cfg["config"], list)
            assert mine.attrs["keras_version"].startswith("1.")

        def first_dataset(h5: h5py.File) -> h5py.Dataset:
            found: list[h5py.Dataset] = []
            h5.visititems(lambda _, o: found.append(o) if isinstance(o, h5py.Dataset) else None)
            return found[0]

        for dataset in (first_dataset(mine), first_dataset(theirs)):
            assert dataset.dtype == np.float32 and dataset.chunks is None
            assert dataset.compression is None
    # Name patterns: ':0' on the TF backend only, and the same per-gate name grammar.
    suffix = "" if "th" in ours else ":0"
    grammar = re.compile(r"^[a-z0-9_]+_(?:[WUb]_[icfozrh]|[WUb])" + re.escape(suffix) + "$")
    for name in _weight_names(LEGACY / ours) + _weight_names(real):
        assert grammar.match(name), name


@needs_realworld
def test_keras1_layer_config_keys_match_real_file() -> None:
    def configs(path: pathlib.Path) -> list[dict[str, Any]]:
        with h5py.File(path, "r") as h5:
            return json.loads(h5.attrs["model_config"])["config"]

    mine, theirs = configs(LEGACY / "k1_tf.h5"), configs(REAL_K1_FULL)
    # Real file: [LSTM (first, with batch_input_shape), LSTM, TimeDistributedDense, Activation]
    mine_first = set(mine[0]["config"])
    mine_later = {e["class_name"]: set(e["config"]) for e in mine[1:]}
    assert mine_first == set(theirs[0]["config"])
    later_real = set(theirs[1]["config"])
    mine_later_lstm = next(set(e["config"]) for e in mine[1:] if e["class_name"] == "LSTM")
    assert mine_later_lstm - {"consume_less"} == later_real - {"consume_less"}
    assert mine_later["TimeDistributedDense"] == set(theirs[2]["config"])
    assert mine_later["Activation"] == set(theirs[3]["config"])
