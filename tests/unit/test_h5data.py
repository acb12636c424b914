"""HDF5 weights read on demand, where they lie: in place inside ``.keras`` zips, by offset, through
h5py when the layout needs it, and reopened safely after their handles closed.

The variants below are real Keras files re-containered (same objects and attributes, another HDF5
layout), so every one must give the original's digests, statistics and arrays.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import threading
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from support.paths import FIXTURES
from support.stats import assert_stats_close

import kernelsplit
from kernelsplit.errors import CorruptFileError
from kernelsplit.model import Artifact
from kernelsplit.readers import filesource
from kernelsplit.readers.keras import h5data, h5safe

ZOO_H5 = FIXTURES / "tf_keras" / "zoo.h5"
ZOO_KERAS = FIXTURES / "keras3" / "zoo.keras"


def _summary(artifact: Artifact) -> dict[str, tuple[str, Any, bytes]]:
    return {
        f"{layer.name} {t.part}[{t.gate}]": (t.sha256, t.stats, t.stored_bytes_array.tobytes())
        for layer in artifact.layers
        for t in layer.tensors
    }


def _assert_same(got: Artifact, want: Artifact) -> None:
    a, b = _summary(got), _summary(want)
    assert a.keys() == b.keys() and a
    for key, (sha256, stats, words) in b.items():
        assert a[key][0] == sha256, key
        assert_stats_close(a[key][1], stats, key)
        assert a[key][2] == words, key


def _sources(artifact: Artifact) -> set[h5data.H5Source]:
    return {t.block.blocks.data.source for layer in artifact.layers for t in layer.tensors}  # type: ignore[attr-defined]


@pytest.fixture
def pread_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every dataset read lazily, by offset where its layout allows (not only those over 64 KiB)."""
    monkeypatch.setattr(h5data, "SMALL_BYTES", 0)


def test_keras_zip_weights_are_read_in_place(pread_everything: None, tmp_path: Path) -> None:
    artifact = kernelsplit.open(ZOO_KERAS)
    (source,) = _sources(artifact)
    member = zipfile.ZipFile(ZOO_KERAS).getinfo("model.weights.h5")
    assert source.path == ZOO_KERAS and source.base > member.header_offset and source.size == member.file_size
    assert all(t.block.blocks.data._offset is not None for layer in artifact.layers for t in layer.tensors)
    folder = tmp_path / "unzipped"
    zipfile.ZipFile(ZOO_KERAS).extractall(folder)
    _assert_same(artifact, kernelsplit.open(folder))


def test_a_compressed_member_is_inflated_to_a_temporary_file(pread_everything: None, tmp_path: Path) -> None:
    deflated = tmp_path / "deflated.keras"
    with zipfile.ZipFile(ZOO_KERAS) as source, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    artifact = kernelsplit.open(deflated)
    (source_,) = _sources(artifact)
    assert source_.path is None  # not the archive: an anonymous temporary file
    _assert_same(artifact, kernelsplit.open(ZOO_KERAS))


def test_a_damaged_compressed_member_is_an_error(tmp_path: Path) -> None:
    deflated = tmp_path / "damaged.keras"
    with zipfile.ZipFile(ZOO_KERAS) as source, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    info = zipfile.ZipFile(deflated).getinfo("model.weights.h5")
    data = bytearray(deflated.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle : middle + 8] = bytes(8)
    deflated.write_bytes(bytes(data))
    outcome = kernelsplit.try_open(deflated)
    assert isinstance(outcome, kernelsplit.Failure) and outcome.error.code == "corrupt"


def test_small_datasets_are_read_at_open_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Datasets under 64 KiB are read while the reader holds them, until EAGER_BYTES per file; the rest lazily."""
    reference = kernelsplit.open(ZOO_H5)
    kinds = {type(t.block.blocks.data).__name__ for layer in reference.layers for t in layer.tensors}
    assert kinds == {"ArrayData"}
    monkeypatch.setattr(h5data, "EAGER_BYTES", 400)
    bounded = kernelsplit.open(ZOO_H5)
    kinds = {type(t.block.blocks.data).__name__ for layer in bounded.layers for t in layer.tensors}
    assert kinds == {"ArrayData", "H5Data"}
    _assert_same(bounded, reference)


def test_artifacts_outlive_their_handles(pread_everything: None) -> None:
    """More artifacts than open handles: every array is still read back exactly, later."""
    paths = sorted(FIXTURES.glob("*/*.h5")) + sorted(FIXTURES.glob("*/*.keras"))
    assert len(paths) > 2 * filesource.MAX_OPEN
    opened = [a for a in map(kernelsplit.try_open, paths) if isinstance(a, Artifact)]
    first = [_summary(artifact) for artifact in opened]
    assert len(filesource._open) <= filesource.MAX_OPEN
    for artifact, summary in zip(opened, first, strict=True):
        assert _summary(artifact) == summary
    assert len(filesource._open) <= filesource.MAX_OPEN


def test_a_file_changed_after_it_was_read_is_refused(pread_everything: None, tmp_path: Path) -> None:
    path = tmp_path / "zoo.h5"
    shutil.copy(ZOO_H5, path)
    artifact = kernelsplit.open(path)
    tensor = artifact.layers[0].tensors[0]
    filesource.release_all()
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # as a rewrite in place would
    with pytest.raises(CorruptFileError, match="changed on disk"):
        tensor.array  # noqa: B018 - the read is the test


def _copy_tree(source: h5py.Group, target: h5py.Group, dataset: dict[str, Any], byteorder: str) -> None:
    for key, value in source.attrs.items():
        target.attrs[key] = value
    for name, item in source.items():
        if isinstance(item, h5py.Group):
            _copy_tree(item, target.create_group(name), dataset, byteorder)
        else:
            values = item[()]
            if values.dtype.kind in "fiu" and byteorder:
                values = values.astype(values.dtype.newbyteorder(byteorder))
            options = dataset if np.ndim(values) and values.dtype.kind != "V" else {}
            copy = target.create_dataset(name, data=values, **options)
            for key, value in item.attrs.items():
                copy.attrs[key] = value


@pytest.mark.parametrize(
    ("userblock", "dataset", "byteorder"),
    [
        (512, {}, ""),
        (0, {}, ">"),
        (0, {"chunks": True, "compression": "gzip", "shuffle": True}, ""),
        (1024, {"chunks": True, "compression": "gzip"}, ">"),
    ],
    ids=["user-block", "big-endian", "chunked-gzip", "all-three"],
)
def test_hdf5_layouts_read_identically(
    pread_everything: None, tmp_path: Path, userblock: int, dataset: dict[str, Any], byteorder: str
) -> None:
    for original in (ZOO_H5, FIXTURES / "keras3" / "bfloat16.weights.h5", FIXTURES / "legacy" / "cudnn.h5"):
        variant = tmp_path / original.name
        with h5py.File(original, "r") as source, h5py.File(variant, "w", userblock_size=userblock) as target:
            _copy_tree(source, target, dataset, byteorder)
        if userblock:
            with variant.open("r+b") as handle:
                handle.write(b"kernelsplit user block")
        _assert_same(kernelsplit.open(variant), kernelsplit.open(original))


def _lazy_tensors(artifact: Artifact) -> list[Any]:
    return [t for layer in artifact.layers for t in layer.tensors if isinstance(t.block.blocks.data, h5data.H5Data)]


@pytest.mark.parametrize("through_h5py", [False, True], ids=["pread", "h5py"])
@pytest.mark.parametrize("original", [ZOO_H5, ZOO_KERAS], ids=["h5", "stored-keras"])
def test_a_file_changed_in_place_while_its_handle_is_kept_is_refused(
    pread_everything: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, original: Path, through_h5py: bool
) -> None:
    """Same inode, descriptor still open: the next read checks the file, it does not trust the handle."""
    path = tmp_path / original.name
    shutil.copy(original, path)
    where = {t.block.blocks.data.name: t for t in _lazy_tensors(kernelsplit.open(path))}  # offsets, by pread
    if through_h5py:
        monkeypatch.setattr(h5data, "_contiguous_offset", lambda *_: None)
    first, *rest = _lazy_tensors(kernelsplit.open(path))
    first.array  # noqa: B018 - opens and keeps the descriptor (and the h5py handle)
    assert id(first.block.blocks.data.source) in filesource._open
    victim = rest[-1]
    data = where[victim.block.blocks.data.name].block.blocks.data
    with path.open("r+b") as handle:
        handle.seek(data.source.base + data._offset)
        handle.write(bytes(64))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # if the write fell in the same tick
    assert path.stat().st_ino == stat.st_ino
    with pytest.raises(CorruptFileError, match="changed on disk"):
        victim.array  # noqa: B018 - the read is the test
    filesource.release_all()


def test_chunked_datasets_read_from_many_threads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A thread's least-recently-used closing never closes a handle under another thread's read."""
    monkeypatch.setattr(filesource, "MAX_OPEN", 2)
    datas = []
    for k in range(6):
        path = tmp_path / f"chunked{k}.h5"
        with h5py.File(path, "w") as target:
            target.create_dataset("d", data=np.random.default_rng(k).random((256, 512), dtype="f4"), chunks=(8, 512))
        with h5safe.open_file(path) as h5:
            data, _ = h5safe.read_dataset(h5["d"], "d")
        assert isinstance(data, h5data.H5Data) and data._offset is None  # read through h5py
        datas.append(data)
    expected = [np.concatenate([d.read(w) for w in d.windows(1 << 16)]) for d in datas]
    failures: list[BaseException] = []

    def work(data: h5data.H5Data, want: np.ndarray) -> None:
        try:
            for _ in range(10):
                assert np.array_equal(np.concatenate([data.read(w) for w in data.windows(1 << 16)]), want)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=pair) for pair in zip(datas, expected, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    filesource.release_all()
    assert failures == []


def _deleted_files_open() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since it was listed
            count += os.readlink(f"/proc/self/fd/{fd}").endswith("(deleted)")
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors through Linux's /proc/self/fd")
def test_dropped_artifacts_release_their_temporary_files(pread_everything: None, tmp_path: Path) -> None:
    """A compressed member's temporary file lives as long as its artifact, not as long as the process."""
    deflated = tmp_path / "deflated.keras"
    with zipfile.ZipFile(ZOO_KERAS) as source, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    gc.collect()
    before = _deleted_files_open()
    artifacts = [kernelsplit.open(deflated) for _ in range(20)]
    for artifact in artifacts:
        _summary(artifact)
    assert _deleted_files_open() >= before + 20
    del artifacts, artifact
    gc.collect()
    assert _deleted_files_open() == before
