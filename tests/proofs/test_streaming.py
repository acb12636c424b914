"""On every fixture and real-world file: the streaming pass gives today's digests and statistics,
however the bytes are read, and the arrays read on demand are the stored ones.

``default``: as a user runs it; each block's digest and statistics must equal the whole-array
computation (``array_sha256`` of its stored words, ``TensorStats.of`` of its values), the one
kernelsplit made before the pass existed. ``stressed``: windows of 64 bytes (every block fed in
many pieces, rows split), every HDF5 dataset read with ``pread`` at its offset (in place inside
``.keras`` zips), every block hashed on the background thread, and at most one file handle kept
open (reopened for every other file): the digests must be identical to ``default``'s, the
statistics equal within 1e-12 relative, the arrays identical.
"""

from __future__ import annotations

import pytest
from support.fixtures import load_json, manifests
from support.paths import REALWORLD, needs_shared
from support.stats import assert_stats_close

import kernelsplit
from kernelsplit import tensordata
from kernelsplit.model import Artifact, array_sha256
from kernelsplit.readers import filesource
from kernelsplit.readers.keras import h5data
from kernelsplit.tensordata import TensorStats


def _fixture_files() -> list[object]:
    files = []
    for manifest_path in manifests():
        for entry in load_json(manifest_path)["files"]:
            path = manifest_path.parent / entry["path"]
            files.append(pytest.param(str(path), id=f"{manifest_path.parent.name}/{entry['path']}"))
    return files


def _realworld_files() -> list[object]:
    if not REALWORLD.is_dir():
        return []
    names = sorted(load_json(p)["local_file"] for p in (REALWORLD / "expected").glob("*.json"))
    return [pytest.param(str(REALWORLD / "files" / name), id=name, marks=needs_shared) for name in names]


FILES = _fixture_files() + _realworld_files()


def _stressed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tensordata, "WINDOW_BYTES", 64)
    monkeypatch.setattr(tensordata, "_THREAD_HASH_BYTES", 1)
    monkeypatch.setattr(h5data, "SMALL_BYTES", 0)
    monkeypatch.setattr(filesource, "MAX_OPEN", 1)


def _blocks(artifact: Artifact) -> list[tuple[str, object]]:
    return [(f"{layer.name} {t.part}[{t.gate}]", t) for layer in artifact.layers for t in layer.tensors]


@pytest.mark.parametrize("path", FILES)
def test_the_pass_equals_the_whole_array_computation(path: str) -> None:
    artifact = kernelsplit.open(path)
    assert artifact.layers or "dense_only" in path
    for what, tensor in _blocks(artifact):
        assert tensor.sha256 == array_sha256(tensor.stored_bytes_array), what
        assert_stats_close(tensor.stats, TensorStats.of(tensor.array), what)


@pytest.mark.parametrize("path", FILES)
def test_windows_in_place_reads_and_threads_change_nothing(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = kernelsplit.open(path)
    expected = {what: (t.sha256, t.stats, t.stored_bytes_array.copy()) for what, t in _blocks(reference)}
    with monkeypatch.context() as patched:
        _stressed(patched)
        filesource.release_all()
        stressed = kernelsplit.open(path)
        got = {what: (t.sha256, t.stats, t.stored_bytes_array.copy()) for what, t in _blocks(stressed)}
    assert got.keys() == expected.keys()
    for what, (sha256, stats, words) in expected.items():
        assert got[what][0] == sha256, what
        assert_stats_close(got[what][1], stats, what)
        assert got[what][2].dtype == words.dtype and got[what][2].tobytes() == words.tobytes(), what
