"""Every configured recurrent layer is bound to the weights Keras itself bound it to, or the file is refused.

The tf-keras 2.12–2.15 fixtures record, per layer, the store group Keras's own loader read
(``store_paths``, checked at generation time); kernelsplit must bind each layer there, whatever
the version's naming rule and on Windows-saved copies. A layer the config names but the file does
not hold is an ``incomplete`` error, exit 2 — never a note with exit 0.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner
from support.fixtures import file_cases, find_layer, open_cached
from support.paths import FIXTURES

import kernelsplit
from kernelsplit.cli import cli
from kernelsplit.errors import IncompleteError

OLD = ("tfk2_12", "tfk2_13", "tfk2_14", "tfk2_15")


@pytest.mark.parametrize(("folder", "entry", "model"), file_cases(lambda e, m: e.get("store_paths"), OLD))
def test_each_layer_is_bound_where_keras_bound_it(folder: Path, entry: dict, model: dict) -> None:
    art = open_cached(str(folder / entry["path"]))
    checked = 0
    for record in model["layers"]:
        keras_path = entry["store_paths"].get(record["key"])
        if keras_path is None:
            continue
        layer = find_layer(art, record["kernel_sha256"], record["key"])
        assert layer.binding is not None
        if entry["has_config"]:  # bound by the config walk, as Keras binds it
            assert (layer.binding.method, layer.binding.where) == ("store-path", f"model.weights.h5:{keras_path}")
        else:  # a .weights.h5 has no config: found by shape in that same group
            assert (layer.binding.method, layer.binding.where) == ("shapes", keras_path)
        checked += 1
    assert checked, "no record of this file has a recorded store path"


def _rewrite_zip(src: Path, dst: Path, member: str, edit) -> Path:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            new.writestr(info, edit(data) if info.filename == member else data)
    return dst


def _edit_store(edit):  # type: ignore[no-untyped-def]
    def apply(data: bytes) -> bytes:
        buffer = io.BytesIO(data)
        with h5py.File(buffer, "r+") as h5:
            edit(h5)
        return buffer.getvalue()

    return apply


def test_a_missing_layer_group_is_incomplete_naming_the_layer_and_where_it_looked(tmp_path: Path) -> None:
    def drop(h5: h5py.File) -> None:
        del h5["_layer_checkpoint_dependencies/lstm_4"]  # the third LSTM (config name lstm_3) in 2.13

    path = _rewrite_zip(
        FIXTURES / "tfk2_13" / "multi.keras", tmp_path / "m.keras", "model.weights.h5", _edit_store(drop)
    )
    with pytest.raises(IncompleteError) as caught:
        kernelsplit.open(path)
    message = str(caught.value)
    assert "layer lstm_3" in message
    assert "_layer_checkpoint_dependencies/lstm_4" in message  # where it looked
    assert "lstm, lstm_2, lstm_6" in message  # what the store has
    result = CliRunner().invoke(cli, ["inspect", "--format", "json", str(path)])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["artifacts"][0]["error"]["code"] == "incomplete"
    assert result.stderr.startswith(f"kernelsplit: error: {path}: the config names recurrent layers")


def test_a_legacy_layer_group_missing_is_incomplete(tmp_path: Path) -> None:
    path = Path(shutil.copy(FIXTURES / "tf_keras" / "zoo.h5", tmp_path / "zoo.h5"))
    with h5py.File(path, "r+") as h5:
        del h5["model_weights/gru_ra_true"]
    with pytest.raises(IncompleteError, match="layer gru_ra_true: no group model_weights/gru_ra_true"):
        kernelsplit.open(path)


def test_a_wrong_version_in_metadata_does_not_mislead_the_binding(tmp_path: Path) -> None:
    """A 2.12 file whose metadata claims 2.14: the 2.14 rule would read lstm_3 from lstm_2's group."""

    def claim_2_14(data: bytes) -> bytes:
        metadata = json.loads(data)
        metadata["keras_version"] = "2.14.0"
        return json.dumps(metadata).encode()

    path = _rewrite_zip(FIXTURES / "tfk2_12" / "multi.keras", tmp_path / "m.keras", "metadata.json", claim_2_14)
    manifest = json.loads((FIXTURES / "tfk2_12" / "manifest.json").read_text())
    records = manifest["models"]["multi"]["layers"]
    art = kernelsplit.open(path)
    assert len(art.layers) == len(records)
    for record in records:
        assert find_layer(art, record["kernel_sha256"], record["key"]).name == record["key"]


def test_groups_named_by_no_rule_are_bound_by_saving_order_and_say_so(tmp_path: Path) -> None:
    def rename(h5: h5py.File) -> None:
        h5.move("layers/lstm_1", "layers/lstm_7")  # the second LSTM (lstm_nobias) under a name no Keras writes

    source = FIXTURES / "keras3" / "zoo.keras"
    path = _rewrite_zip(source, tmp_path / "z.keras", "model.weights.h5", _edit_store(rename))
    original = {layer.name: layer for layer in kernelsplit.open(source).layers}
    art = kernelsplit.open(path)
    assert [layer.name for layer in art.layers] == list(original)
    moved = next(layer for layer in art.layers if layer.binding and layer.binding.method == "store-order")
    assert moved.binding is not None and moved.binding.where.endswith("layers/lstm_7/cell/vars")
    assert any("saving order" in note for note in moved.notes)
    assert [t.sha256 for t in moved.tensors] == [t.sha256 for t in original[moved.name].tensors]


@pytest.mark.parametrize(("folder", "entry", "model"), file_cases(lambda e, m: e.get("object_paths"), ("tfckpt_old",)))
def test_tf1_checkpoint_layers_are_bound_by_their_stored_configs(folder: Path, entry: dict, model: dict) -> None:
    """TF 1.9–1.13 checkpoints store each object's config: layers keep their names and maths.

    ``object_paths`` and the maths were recorded from TensorFlow 1.13's own model at save time.
    """
    art = open_cached(str(folder / entry["path"]))
    assert art.writer is not None and art.writer.generation == "tf-keras"
    assert len(art.layers) == len(model["layers"])
    for record in model["layers"]:
        layer = find_layer(art, record["kernel_sha256"], record["key"])
        assert layer.name == record["key"]
        assert layer.binding is not None
        assert (layer.binding.method, layer.binding.where) == (
            "object-graph",
            entry["object_paths"][record["key"]] + "/cell",  # the weights hang off the layer's cell
        )
        assert layer.maths.recurrent_activation.value == record["recurrent_activation"]
        assert layer.maths.reset_after.value == record["reset_after"]
        assert layer.maths.go_backwards.value == record["go_backwards"]
