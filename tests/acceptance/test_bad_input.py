"""Corrupt, truncated, hostile and unsupported input: one line naming the file, exit 2, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES

import kernelsplit
from kernelsplit.cli import cli
from kernelsplit.errors import CorruptFileError, NotAModelError, NotFoundError, UnsafeFileError

ZOO_K3 = FIXTURES / "keras3" / "zoo.keras"
ZOO_TFK = FIXTURES / "tf_keras" / "zoo.h5"


def _truncated(src: Path, dst: Path, keep: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def _zip_without(src: Path, dst: Path, drop: str, add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename != drop:
                zout.writestr(item, zin.read(item.filename))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    (tmp / "empty.h5").write_bytes(b"")
    (tmp / "text.h5").write_text("hello, not a model\n")
    (tmp / "adir").mkdir()
    with h5py.File(tmp / "plain.h5", "w") as h5:
        h5["x"] = np.zeros(3)
    return {
        "missing": (tmp / "missing.keras", "no such file"),
        "directory": (tmp / "adir", "no model file found in this folder"),
        "empty": (tmp / "empty.h5", "empty file"),
        "not-a-model": (tmp / "text.h5", "not a Keras model"),
        "plain-hdf5": (tmp / "plain.h5", "not a Keras model"),
        "truncated-hdf5": (_truncated(ZOO_TFK, tmp / "trunc.h5", 0.5), "corrupt HDF5"),
        "truncated-zip": (_truncated(ZOO_K3, tmp / "trunc.keras", 0.6), "zip"),
        "zip-without-weights": (
            _zip_without(ZOO_K3, tmp / "noweights.keras", "model.weights.h5"),
            "no model.weights.h5",
        ),
        "npz-weights": (
            _zip_without(ZOO_K3, tmp / "npz.keras", "model.weights.h5", {"model.weights.npz": b"PK"}),
            "pickle",
        ),
        "zip-without-config": (_zip_without(ZOO_K3, tmp / "noconfig.keras", "config.json"), "config.json"),
    }


def test_every_bad_file_is_one_line_exit_2_and_others_still_reported(tmp_path: Path) -> None:
    cases = _bad_files(tmp_path)
    paths = [str(p) for p, _ in cases.values()]
    result = CliRunner().invoke(cli, ["inspect", "--format", "json", *paths, str(ZOO_TFK)])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(cases)
    for line, (name, (path, reason)) in zip(lines, cases.items(), strict=True):
        assert line.startswith(f"kernelsplit: error: {path}: "), name
        assert reason.lower() in line.lower(), (name, line)
    document = json.loads(result.stdout)
    *failed, good = document["artifacts"]
    assert all(a["error"] and a["error"]["code"] for a in failed)
    assert good["error"] is None and good["layers"]


def test_error_classes(tmp_path: Path) -> None:
    cases = _bad_files(tmp_path)
    with pytest.raises(NotFoundError):
        kernelsplit.open(cases["missing"][0])
    with pytest.raises(NotAModelError):
        kernelsplit.open(cases["empty"][0])
    with pytest.raises(CorruptFileError):
        kernelsplit.open(cases["truncated-hdf5"][0])
    with pytest.raises(UnsafeFileError):
        kernelsplit.open(cases["npz-weights"][0])


def _copy(tmp: Path) -> Path:
    return Path(shutil.copy(ZOO_TFK, tmp / "zoo.h5"))


def _first_kernel(h5: h5py.File) -> tuple[h5py.Group, str]:
    group = h5["model_weights/my_lstm"]
    name = next(n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"])
    return group, name


def test_soft_link_on_a_weight_path_is_refused(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as h5:
        group, name = _first_kernel(h5)
        target = group[name].name
        h5.move(target, "/stolen")
        h5[target] = h5py.SoftLink("/stolen")
    with pytest.raises(UnsafeFileError, match="soft link"):
        kernelsplit.open(path)


def test_external_link_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5["k"] = np.zeros((3, 16), np.float32)
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as h5:
        group, name = _first_kernel(h5)
        target = group[name].name
        del h5[target]
        h5[target] = h5py.ExternalLink(str(other), "/k")
    with pytest.raises(UnsafeFileError, match="external link"):
        kernelsplit.open(path)


def test_external_storage_dataset_is_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.zeros((3, 16), np.float32).tobytes())
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as h5:
        group, name = _first_kernel(h5)
        target = group[name].name
        shape = group[name].shape
        del h5[target]
        h5.create_dataset(target, shape=shape, dtype="f4", external=[(str(raw), 0, h5py.h5f.UNLIMITED)])
    with pytest.raises(UnsafeFileError, match="external-storage"):
        kernelsplit.open(path)


def test_virtual_dataset_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "src.h5"
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as h5:
        group, name = _first_kernel(h5)
        target = group[name].name
        shape = group[name].shape
        with h5py.File(other, "w") as src:
            src["k"] = np.zeros(shape, np.float32)
        layout = h5py.VirtualLayout(shape=shape, dtype="f4")
        layout[...] = h5py.VirtualSource(str(other), "k", shape=shape)
        del h5[target]
        h5.create_virtual_dataset(target, layout)
    with pytest.raises(UnsafeFileError, match="virtual"):
        kernelsplit.open(path)


def test_weight_names_pointing_nowhere_is_corrupt(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as h5:
        group, name = _first_kernel(h5)
        del group[name]
    with pytest.raises(CorruptFileError, match="missing"):
        kernelsplit.open(path)


def test_inconsistent_shapes_are_an_error_not_a_wrong_split(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as h5:
        group = h5["model_weights/my_lstm"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        recurrent = group[names[1]]
        data = recurrent[()]
        del group[names[1]]
        group[names[1]] = data[:, :-1]  # 15 columns: not gates * units
    artifact = kernelsplit.try_open(path)
    assert isinstance(artifact.error, CorruptFileError)
    assert "my_lstm" in str(artifact.error)


def test_garbage_config_json_is_corrupt(tmp_path: Path) -> None:
    path = _zip_without(ZOO_K3, tmp_path / "badcfg.keras", "config.json", {"config.json": b"{not json"})
    with pytest.raises(CorruptFileError, match=r"config\.json"):
        kernelsplit.open(path)


def _rezip_config(tmp: Path, name: str, edit) -> Path:
    config = json.loads(zipfile.ZipFile(ZOO_K3).read("config.json"))
    edit(config)
    return _zip_without(ZOO_K3, tmp / name, "config.json", {"config.json": json.dumps(config).encode()})


def test_config_values_of_the_wrong_type_do_not_crash(tmp_path: Path) -> None:
    def edit(config: dict) -> None:
        layer = next(entry for entry in config["config"]["layers"] if entry["class_name"] == "LSTM")
        layer["config"]["dtype"] = {"config": "not-a-dict"}
        layer["config"]["units"] = float("inf")

    path = _rezip_config(tmp_path, "types.keras", edit)
    result = CliRunner().invoke(cli, ["inspect", "--format", "json", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    document = json.loads(result.stdout)  # strict JSON even with Infinity in the file's config
    assert document["artifacts"][0]["layers"]


def test_huge_float64_weights_keep_json_strict(tmp_path: Path) -> None:
    path = Path(shutil.copy(FIXTURES / "keras3" / "zoo.weights.h5", tmp_path / "huge.weights.h5"))
    with h5py.File(path, "r+") as h5:
        kernel = h5["layers/lstm/cell/vars/0"]
        shape = kernel.shape
        del h5["layers/lstm/cell/vars/0"]
        h5["layers/lstm/cell/vars/0"] = np.full(shape, 1e300, np.float64)
    result = CliRunner().invoke(cli, ["inspect", "--format", "json", str(path)])
    assert result.exit_code == 0, result.stderr
    layer = next(entry for entry in json.loads(result.stdout)["artifacts"][0]["layers"] if entry["name"] == "lstm")
    stats = layer["tensors"][0]["stats"]
    units = shape[-1] // 4
    assert stats["l2"] == pytest.approx(1e300 * np.sqrt(shape[0] * units))  # no overflow to inf


def test_unallocated_dataset_is_refused_as_a_shape_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.weights.h5"
    with h5py.File(path, "w") as h5:
        h5.create_dataset("layers/lstm/cell/vars/0", shape=(8192, 32768), dtype="f4")  # 1 GiB, never written
        h5.create_dataset("layers/lstm/cell/vars/1", data=np.zeros((8192, 32768), "f4")[:1])
    assert path.stat().st_size < 1 << 20
    with pytest.raises(UnsafeFileError, match="shape bomb"):
        kernelsplit.open(path)


def test_hard_link_cycle_is_corrupt_not_a_recursion(tmp_path: Path) -> None:
    path = tmp_path / "cycle.weights.h5"
    with h5py.File(path, "w") as h5:
        group = h5.create_group("layers/lstm")
        group["loop"] = h5["layers"]
    with pytest.raises(CorruptFileError, match="reached twice"):
        kernelsplit.open(path)


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    artifact = kernelsplit.try_open(fifo)  # would block forever if opened
    assert isinstance(artifact.error, NotAModelError)
    assert "regular file" in str(artifact.error)


def test_zip_bomb_member_is_refused_before_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(ZOO_K3) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("config.json", zin.read("config.json"))
        zout.writestr("metadata.json", zin.read("metadata.json"))
        zout.writestr("model.weights.h5", b"\0" * (80 << 20))  # 80 MiB of zeros deflate ~1000x
    assert path.stat().st_size < 1 << 20
    with pytest.raises(UnsafeFileError, match="zip bomb"):
        kernelsplit.open(path)


def test_shape_bomb_budget_spans_all_shards(tmp_path: Path) -> None:
    """Each shard alone stays under its own file's allowance; together they would take ~1 GB."""
    weight_map = {}
    for k in range(16):
        shard = f"bomb_{k:05d}.weights.h5"
        with h5py.File(tmp_path / shard, "w") as h5:
            h5.create_dataset(f"layers/lstm_{k}/cell/vars/0", shape=(4096, 4096), dtype="f4")  # 64 MiB, unwritten
            h5.create_dataset(f"layers/lstm_{k}/cell/vars/1", data=np.zeros((1, 4), "f4"))
        weight_map[f"/layers/lstm_{k}/cell/vars"] = shard
    index = tmp_path / "bomb.weights.json"
    index.write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    with pytest.raises(UnsafeFileError, match="shape bomb"):
        kernelsplit.open(index)


def test_shape_bomb_budget_uses_the_zip_size_not_the_inflated_member(tmp_path: Path) -> None:
    """A deflated .keras whose 60 MiB weights file is mostly zeros must not buy a 1 GB allowance."""
    weights = tmp_path / "model.weights.h5"
    with h5py.File(weights, "w") as h5:
        h5.create_dataset("padding", data=np.zeros(60 << 18, "f4"))  # 60 MiB of zeros, stored
        h5.create_dataset("layers/lstm/cell/vars/0", shape=(16384, 16384), dtype="f4")  # 1 GiB, unwritten
        h5.create_dataset("layers/lstm/cell/vars/1", data=np.zeros((1, 4), "f4"))
    path = tmp_path / "padded.keras"
    with zipfile.ZipFile(ZOO_K3) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in ("config.json", "metadata.json"):
            zout.writestr(name, zin.read(name))
        zout.write(weights, "model.weights.h5")
    assert path.stat().st_size < 2 << 20
    with pytest.raises(UnsafeFileError, match="shape bomb"):
        kernelsplit.open(path)


def _legacy_with_lstm_config(tmp: Path, name: str, edit) -> Path:
    path = Path(shutil.copy(ZOO_TFK, tmp / name))
    with h5py.File(path, "r+") as h5:
        config = json.loads(h5.attrs["model_config"])
        edit(next(layer for layer in config["config"]["layers"] if layer["name"] == "my_lstm")["config"])
        h5.attrs["model_config"] = json.dumps(config)
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["inspect", "--format", "json"],
        ["check", "--format", "json"],
        ["export", "--layout", "pytorch", "--skip-unsupported"],
    ],
)
def test_config_values_nested_deep_or_too_big_for_a_float(tmp_path: Path, command: list[str]) -> None:
    def edit(config: dict) -> None:
        nested: list = []
        for _ in range(800):  # json.dumps itself stops near 1000 levels
            nested = [nested]
        config["kernel_size"] = nested
        config["units"] = 10**400

    path = _legacy_with_lstm_config(tmp_path, "deep.h5", edit)
    extra = ["-o", str(tmp_path / "out")] if command[0] == "export" else []
    result = CliRunner().invoke(cli, [*command, str(path), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "internal error" not in result.stderr
    if command[0] != "export":
        json.loads(result.stdout)
    if command[0] == "check":  # units=10**400 contradicts the shapes: a finding, not a crash
        assert any(f["code"] == "KS108" for f in json.loads(result.stdout)["findings"])


def test_gru_reset_after_contradicting_the_bias_shape_is_a_mismatch(tmp_path: Path) -> None:
    path = Path(shutil.copy(ZOO_TFK, tmp_path / "ra.h5"))
    with h5py.File(path, "r+") as h5:
        config = json.loads(h5.attrs["model_config"])
        gru = next(
            layer
            for layer in config["config"]["layers"]
            if layer["class_name"] == "GRU" and layer["config"].get("reset_after")
        )
        gru["config"]["reset_after"] = False  # the stored bias is still (2, 3u)
        h5.attrs["model_config"] = json.dumps(config)
    layer = next(la for la in kernelsplit.open(path).layers if la.name == gru["config"]["name"])
    assert [(m.key, m.config, m.stored) for m in layer.mismatches] == [("reset_after", False, True)]
    result = CliRunner().invoke(cli, ["check", "--format", "json", str(path)])
    assert result.exit_code == 1  # KS108 is an error by default
    assert [f["layer"] for f in json.loads(result.stdout)["findings"] if f["code"] == "KS108"] == [layer.name]
