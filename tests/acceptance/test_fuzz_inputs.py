"""Fuzz the readers with damaged copies of small fixtures: never a traceback, never a crash.

kernelsplit promises that a corrupt, truncated, hostile or unsupported file gets one line
``kernelsplit: error: PATH: reason`` and exit code 2. Every case below takes a small fixture of
one container kind (legacy ``.h5`` full model and weights-only, Keras 3 ``.weights.h5``,
``.keras`` zip and unzipped folder, SavedModel / TF checkpoint, sharded ``.weights.json``),
damages a copy in ``tmp_path`` and asserts, for each variant:

* ``kernelsplit.try_open(path)`` returns an Artifact without raising, and its ``error`` is
  ``None`` or a ``KernelsplitError``;
* ``kernelsplit inspect --format json PATH`` exits 0 or 2, no exception escapes, stdout is one
  JSON document, and stderr is at most one line, starting ``kernelsplit: error: `` (exactly
  when the exit code is 2).

Deterministic (``random.Random`` with fixed seeds, no hypothesis database) and bounded (a fixed
number of variants per fixture; the whole file runs in a few seconds). Each variant runs under a
SIGALRM guard so a hang fails the case instead of the CI job. Possible shape bombs run in a
child process under an address-space limit so a huge allocation fails the case, not the machine.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES

import kernelsplit
from kernelsplit.cli import cli
from kernelsplit.errors import KernelsplitError

#: Seconds one variant may take (try_open + CLI) before it counts as a hang.
HANG_SECONDS = 10
PREFIX = "kernelsplit: error: "

# --- fixtures of each container kind (all small: 12-60 KB) -----------------------------------
H5_FULL = {
    "tfk_full": FIXTURES / "tf_keras" / "nested_frozen.h5",
    "k1_full": FIXTURES / "legacy" / "k1_convlstm_th.h5",
    "cudnn_full": FIXTURES / "legacy" / "cudnn.h5",
}
H5_WEIGHTS = {
    "k1_weights": FIXTURES / "legacy" / "k1_convlstm_th_weights.h5",
    "cudnn_weights": FIXTURES / "legacy" / "cudnn_weights.h5",
}
K3_WEIGHTS = {"k3_weights": FIXTURES / "keras3" / "seq_dedup.weights.h5"}
KERAS_ZIP = {
    "k3_zip": FIXTURES / "keras3" / "seq_dedup.keras",
    "k3_convlstm_zip": FIXTURES / "keras3" / "convlstm3d.keras",
}
KERAS_DIR = FIXTURES / "legacy" / "unzipped_keras"
SAVEDMODEL = FIXTURES / "savedmodel" / "k3_export"
CHECKPOINT = FIXTURES / "savedmodel" / "tfk_ckpt"
SHARDED = FIXTURES / "legacy" / "sharded.weights.json"

SINGLE_FILES = {**H5_FULL, **H5_WEIGHTS, **K3_WEIGHTS, **KERAS_ZIP}


# --- the two assertions every variant must pass -----------------------------------------------
@contextmanager
def _no_hang(label: str) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def _alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"{label}: still running after {HANG_SECONDS} s (hang?)")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _problems(path: Path, label: str) -> list[str]:
    """Every broken promise for one damaged input ([] when it behaves)."""
    problems: list[str] = []
    with _no_hang(label):
        try:
            artifact = kernelsplit.try_open(path)
        except BaseException as exc:  # anything escaping is the bug we hunt
            if isinstance(exc, KeyboardInterrupt):
                raise
            return [f"{label}: try_open raised {type(exc).__name__}: {exc}"]
        if not isinstance(artifact, (kernelsplit.Artifact, kernelsplit.Failure)):
            problems.append(f"{label}: try_open returned {type(artifact).__name__}")
        elif artifact.error is not None and not isinstance(artifact.error, KernelsplitError):
            problems.append(f"{label}: error is {type(artifact.error).__name__}, not KernelsplitError")

        result = CliRunner().invoke(cli, ["inspect", "--format", "json", str(path)], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        problems.append(f"{label}: CLI raised {type(exc).__name__}: {exc}")
        return problems
    if result.exit_code not in (0, 2):
        problems.append(f"{label}: CLI exit code {result.exit_code}")
    lines = result.stderr.splitlines()
    if len(lines) > 1 or any(not line.startswith(PREFIX) for line in lines):
        problems.append(f"{label}: stderr is not one '{PREFIX}' line: {result.stderr[:300]!r}")
    if (result.exit_code == 2) != bool(lines):
        problems.append(f"{label}: exit {result.exit_code} with stderr {result.stderr[:200]!r}")
    try:
        json.loads(result.stdout)
    except ValueError:
        problems.append(f"{label}: stdout is not one JSON document: {result.stdout[:200]!r}")
    return problems


def _assert_all_behave(cases: list[tuple[Path, str]]) -> None:
    assert cases, "no variants generated"
    problems = [p for path, label in cases for p in _problems(path, label)]
    assert not problems, f"{len(problems)} of {len(cases)} variants misbehave:\n" + "\n".join(problems)


# --- byte-level damage ------------------------------------------------------------------------
def _offsets(size: int, rng: random.Random, count: int) -> list[int]:
    """Edge offsets (magic, superblock, zip headers, the very end) plus random ones."""
    fixed = [0, 1, 4, 7, 8, 9, 16, 48, 96, 512, 2048, size // 2, size - 22, size - 1]
    return sorted({o for o in fixed if 0 <= o < size} | {rng.randrange(size) for _ in range(count)})


def _truncations(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for offset in _offsets(len(data), rng, 18):
        yield f"truncated@{offset}", data[:offset]


def _flips(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    size = len(data)
    for i in range(12):  # headers: HDF5 superblock / object headers, zip local header
        buf = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(min(size, 1024))] ^= 1 << rng.randrange(8)
        yield f"header-flip#{i}", bytes(buf)
    for i in range(12):  # the middle: B-trees, heaps, data chunks, zip central directory
        buf = bytearray(data)
        for _ in range(rng.randint(1, 16)):
            buf[rng.randrange(size // 4, size)] = rng.randrange(256)
        yield f"middle-flip#{i}", bytes(buf)


def _zeroed(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    size = len(data)
    for i in range(10):
        length = rng.choice([8, 64, 512, 4096])
        start = rng.randrange(max(1, size - length))
        yield f"zeroed[{start}:{start + length}]#{i}", data[:start] + b"\0" * length + data[start + length :]
    yield "all-0xff-after-magic", data[:8] + b"\xff" * (size - 8)


MUTATORS: dict[str, Callable[[bytes, random.Random], Iterator[tuple[str, bytes]]]] = {
    "truncate": _truncations,
    "flip": _flips,
    "zero": _zeroed,
}


@pytest.mark.parametrize("mutator", sorted(MUTATORS))
@pytest.mark.parametrize("name", sorted(SINGLE_FILES))
def test_byte_damage_single_files(tmp_path: Path, name: str, mutator: str) -> None:
    src = SINGLE_FILES[name]
    data = src.read_bytes()
    rng = random.Random(f"{name}/{mutator}")
    cases = []
    for index, (label, blob) in enumerate(MUTATORS[mutator](data, rng)):
        target = tmp_path / f"{index:03d}{src.suffix}"
        target.write_bytes(blob)
        cases.append((target, f"{name} {label}"))
    _assert_all_behave(cases)


def _dir_members() -> list[tuple[str, Path, str]]:
    """(case name, folder fixture, member to damage) for the multi-file containers."""
    members = [("keras_dir", KERAS_DIR, name) for name in ("config.json", "metadata.json", "model.weights.h5")]
    members += [
        ("savedmodel", SAVEDMODEL, rel)
        for rel in ("saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001")
    ]
    members += [("checkpoint", CHECKPOINT, rel) for rel in ("checkpoint", "ckpt.index", "ckpt.data-00000-of-00001")]
    return members


@pytest.mark.parametrize("mutator", sorted(MUTATORS))
@pytest.mark.parametrize(("kind", "folder", "member"), _dir_members(), ids=[f"{k}:{m}" for k, _, m in _dir_members()])
def test_byte_damage_inside_folders(tmp_path: Path, kind: str, folder: Path, member: str, mutator: str) -> None:
    data = (folder / member).read_bytes()
    rng = random.Random(f"{kind}/{member}/{mutator}")
    variants = list(MUTATORS[mutator](data, rng))[::2]  # every other variant: folders cost more
    cases = []
    for index, (label, blob) in enumerate(variants):
        target = tmp_path / f"v{index:03d}"
        shutil.copytree(folder, target)
        (target / member).write_bytes(blob)
        cases.append((target, f"{kind}/{member} {label}"))
        if kind == "checkpoint":  # the prefix form too: .../ckpt names ckpt.index
            cases.append((target / "ckpt", f"{kind}(prefix)/{member} {label}"))
    _assert_all_behave(cases)


def test_sharded_shards_damaged(tmp_path: Path) -> None:
    rng = random.Random("sharded")
    shards = sorted(SHARDED.parent.glob("sharded_*.weights.h5"))
    cases = []
    for index in range(16):
        target = tmp_path / f"s{index:02d}"
        target.mkdir()
        shutil.copy(SHARDED, target / SHARDED.name)
        for shard in shards:
            shutil.copy(shard, target / shard.name)
        victim = target / shards[index % len(shards)].name
        data = victim.read_bytes()
        mutator = sorted(MUTATORS)[index % len(MUTATORS)]
        label, blob = rng.choice(list(MUTATORS[mutator](data, rng)))
        victim.write_bytes(blob)
        cases.append((target / SHARDED.name, f"sharded {victim.name} {label}"))
    _assert_all_behave(cases)


# --- JSON mutations (config.json, metadata.json, model_config, weights.json) ------------------
#: Non-finite numbers (``NaN``, ``Infinity``: Python's json accepts them) are in
#: test_non_finite_json_numbers, where the known crashes are marked one by one.
ABSURD = [-1, 0, 10**12, 2**63, 1.5, "4", True, None, [], {}, [4], "", "x" * 10000]


def _paths(doc: object, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, (*prefix, index))


def _set(doc: object, path: tuple, value: object) -> object:
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return doc


def _delete(doc: object, path: tuple) -> object:
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return doc


def _deep(depth: int) -> str:
    """A Sequential nested ``depth`` times around one LSTM (as text: json.dumps would recurse)."""
    head = '{"class_name": "Sequential", "config": {"layers": ['
    return head * depth + '{"class_name": "LSTM", "config": {"units": 4}}' + "]}}" * depth


def _json_variants(text: str, rng: random.Random, count: int) -> Iterator[tuple[str, str]]:
    """Invalid JSON, JSON of the wrong shape, and random structural mutations of ``text``."""
    yield "invalid-json", text[: len(text) // 2]
    yield "not-utf8", "\udcff"  # written with surrogateescape -> a lone 0xff byte
    for label, value in [
        ("list", [1, 2]),
        ("number", 42),
        ("null", None),
        ("string", "config"),
        ("empty-object", {}),
        ("true", True),
    ]:
        yield f"wrong-shape:{label}", json.dumps(value)
    yield "deep-list-nesting", "[" * 100_000 + "]" * 100_000
    yield "deep-layer-nesting", _deep(3000)
    doc = json.loads(text)
    all_paths = [p for p in _paths(doc) if p]
    unit_paths = [
        p
        for p in all_paths
        if p[-1] in ("units", "filters", "output_dim", "nb_filter", "shape", "batch_shape", "batch_input_shape")
    ]
    for path in unit_paths:
        for value in (-1, 0, 10**12, 1.5, "4", None):
            yield f"absurd {'/'.join(map(str, path))}={value!r}", json.dumps(_set(json.loads(text), path, value))
    for i in range(count):
        path = rng.choice(all_paths)
        mutated = json.loads(text)
        if rng.random() < 0.4:
            label = f"delete {'/'.join(map(str, path))}"
            mutated = _delete(mutated, path)
        else:
            value = rng.choice(ABSURD)
            label = f"set {'/'.join(map(str, path))}={str(value)[:20]!r}"
            mutated = _set(mutated, path, value)
        yield f"{label}#{i}", json.dumps(mutated)


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def _rezip(
    src: Path,
    dst: Path,
    replace: dict[str, bytes | None],
    order: list[str] | None = None,
    extra: dict[str, bytes] | None = None,
) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        names = order or zin.namelist()
        for name in names:
            data = replace[name] if name in replace else zin.read(name)
            if data is not None:
                zout.writestr(name, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


@pytest.mark.parametrize("member", ["config.json", "metadata.json"])
def test_keras_zip_json_mutations(tmp_path: Path, member: str) -> None:
    src = KERAS_ZIP["k3_zip"]
    text = zipfile.ZipFile(src).read(member).decode()
    rng = random.Random(f"zip/{member}")
    cases = []
    for index, (label, new) in enumerate(_json_variants(text, rng, 40)):
        target = tmp_path / f"{index:03d}.keras"
        _rezip(src, target, {member: new.encode("utf-8", "surrogateescape")})
        cases.append((target, f"zip {member} {label}"))
    _assert_all_behave(cases)


def test_keras_dir_config_mutations(tmp_path: Path) -> None:
    text = (KERAS_DIR / "config.json").read_text()
    rng = random.Random("dir/config")
    cases = []
    for index, (label, new) in enumerate(_json_variants(text, rng, 25)):
        target = tmp_path / f"d{index:03d}"
        shutil.copytree(KERAS_DIR, target)
        _write_text(target / "config.json", new)
        cases.append((target, f"keras_dir config.json {label}"))
    _assert_all_behave(cases)


def test_sharded_index_mutations(tmp_path: Path) -> None:
    text = SHARDED.read_text()
    shards = sorted(SHARDED.parent.glob("sharded_*.weights.h5"))
    rng = random.Random("sharded/json")
    variants = list(_json_variants(text, rng, 25))
    doc = json.loads(text)
    first = next(iter(doc["weight_map"]))
    for label, target_name in [
        ("missing-shard", "nope.weights.h5"),
        ("traversal", "../../etc/passwd"),
        ("absolute", "/etc/passwd"),
        ("self", SHARDED.name),
        ("dir", "."),
        ("empty-name", ""),
    ]:
        mutated = json.loads(text)
        mutated["weight_map"][first] = [target_name]
        variants.append((f"weight_map->{label}", json.dumps(mutated)))
    mutated = json.loads(text)
    mutated["weight_map"] = {}
    variants.append(("empty-weight_map", json.dumps(mutated)))
    cases = []
    for index, (label, new) in enumerate(variants):
        target = tmp_path / f"s{index:03d}"
        target.mkdir()
        for shard in shards:
            shutil.copy(shard, target / shard.name)
        _write_text(target / SHARDED.name, new)
        cases.append((target / SHARDED.name, f"sharded json {label}"))
    _assert_all_behave(cases)


# --- .keras zip structure ---------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # on purpose: two config.json
def test_keras_zip_members_swapped_dropped_garbled(tmp_path: Path) -> None:
    cases = []
    rng = random.Random("zip/members")
    for name, src in sorted(KERAS_ZIP.items()):
        with zipfile.ZipFile(src) as z:
            names = z.namelist()
            blobs = {n: z.read(n) for n in names}
        variants: list[tuple[str, dict[str, bytes | None], dict[str, bytes] | None]] = []
        for a in names:
            for b in names:
                if a < b:
                    variants.append((f"swap {a}<->{b}", {a: blobs[b], b: blobs[a]}, None))
            variants.append((f"drop {a}", {a: None}, None))
            variants.append((f"empty {a}", {a: b""}, None))
            variants.append((f"random-bytes {a}", {a: rng.randbytes(len(blobs[a]))}, None))
            variants.append((f"truncated {a}", {a: blobs[a][: len(blobs[a]) // 3]}, None))
        weights = blobs["model.weights.h5"]
        variants.append(("weights replaced by zip", {"model.weights.h5": src.read_bytes()}, None))
        variants.append(("npz beside h5", {}, {"model.weights.npz": b"PK\x05\x06" + b"\0" * 18}))
        variants.append(("weights in subfolder", {"model.weights.h5": None}, {"x/model.weights.h5": weights}))
        variants.append(("duplicate config", {}, {"config.json": b"[]"}))
        for index, (label, replace, extra) in enumerate(variants):
            target = tmp_path / f"{name}-{index:03d}.keras"
            _rezip(src, target, replace, extra=extra)
            cases.append((target, f"{name} {label}"))
    # a zip whose central directory says one thing and local headers another
    data = bytearray(KERAS_ZIP["k3_zip"].read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    for label, patch in [
        ("cd-offset-past-end", (eocd + 16, b"\xff\xff\xff\x7f")),
        ("cd-count-huge", (eocd + 10, b"\xff\xff")),
        ("cd-size-zero", (eocd + 12, b"\0\0\0\0")),
    ]:
        blob = bytearray(data)
        blob[patch[0] : patch[0] + len(patch[1])] = patch[1]
        target = tmp_path / f"eocd-{label}.keras"
        target.write_bytes(bytes(blob))
        cases.append((target, f"k3_zip {label}"))
    # a member whose declared uncompressed size lies (zip bomb guards read sizes)
    cd = data.find(b"PK\x01\x02")
    while cd != -1:
        blob = bytearray(data)
        blob[cd + 24 : cd + 28] = (2**32 - 1).to_bytes(4, "little")  # uncompressed size
        target = tmp_path / f"lying-size-{cd}.keras"
        target.write_bytes(bytes(blob))
        cases.append((target, f"k3_zip lying uncompressed size at cd {cd}"))
        cd = data.find(b"PK\x01\x02", cd + 4)
    _assert_all_behave(cases)


def test_keras_zip_weights_member_attr_damage(tmp_path: Path) -> None:
    """The HDF5 inside a .keras zip, mangled with h5py, then zipped back."""
    src = KERAS_ZIP["k3_zip"]
    inner = tmp_path / "inner.h5"
    inner.write_bytes(zipfile.ZipFile(src).read("model.weights.h5"))
    cases = []
    for index, (label, mutate) in enumerate(_k3_h5_mutations()):
        work = tmp_path / f"inner{index:03d}.h5"
        shutil.copy(inner, work)
        with h5py.File(work, "r+") as h5:
            mutate(h5)
        target = tmp_path / f"{index:03d}.keras"
        _rezip(src, target, {"model.weights.h5": work.read_bytes()})
        cases.append((target, f"k3_zip weights {label}"))
    _assert_all_behave(cases)


# --- HDF5 structure mangled with h5py ---------------------------------------------------------
def _replace_attr(obj: h5py.HLObject, key: str, value: object) -> None:
    if key in obj.attrs:
        del obj.attrs[key]
    if value is not _MISSING:
        obj.attrs[key] = value


_MISSING = object()


def _datasets(group: h5py.Group) -> list[str]:
    found: list[str] = []
    group.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
    return found


def _replace_dataset(h5: h5py.File, name: str, data: object = None, **kwargs: object) -> None:
    del h5[name]
    h5.create_dataset(name, data=data, **kwargs)


def _legacy_h5_mutations(full: bool) -> list[tuple[str, Callable[[h5py.File], None]]]:
    """(label, mutate(h5)) for legacy .h5 files (full models when ``full``)."""

    def root(h5: h5py.File) -> h5py.Group:
        return h5["model_weights"] if full else h5

    def first_layer(h5: h5py.File) -> h5py.Group:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in root(h5).attrs["layer_names"]]
        for name in names:
            group = root(h5)[name]
            if len(group.attrs.get("weight_names", [])):
                return group
        raise AssertionError("no layer with weights")

    def weight_names(h5: h5py.File) -> list[str]:
        return [n.decode() if isinstance(n, bytes) else str(n) for n in first_layer(h5).attrs["weight_names"]]

    def set_weight_names(value: object) -> Callable[[h5py.File], None]:
        return lambda h5: _replace_attr(first_layer(h5), "weight_names", value)

    def set_layer_names(value: object) -> Callable[[h5py.File], None]:
        return lambda h5: _replace_attr(root(h5), "layer_names", value)

    def first_weight(h5: h5py.File) -> str:
        return f"{first_layer(h5).name}/{weight_names(h5)[0]}"

    def missing_weight(h5: h5py.File) -> None:
        names = weight_names(h5)
        names[0] = names[0] + "_missing"
        _replace_attr(first_layer(h5), "weight_names", np.array([n.encode() for n in names]))

    def drop_weight_dataset(h5: h5py.File) -> None:
        del h5[first_weight(h5)]

    def weight_is_group(h5: h5py.File) -> None:
        name = first_weight(h5)
        del h5[name]
        h5.create_group(name)

    def duplicate_weight_names(h5: h5py.File) -> None:
        names = weight_names(h5)
        _replace_attr(first_layer(h5), "weight_names", np.array([names[0].encode()] * len(names)))

    def shape(new: object, **kwargs: object) -> Callable[[h5py.File], None]:
        return lambda h5: _replace_dataset(h5, first_weight(h5), new, **kwargs)

    def every_dataset(value: object) -> Callable[[h5py.File], None]:
        def mutate(h5: h5py.File) -> None:
            for name in _datasets(root(h5)):
                _replace_dataset(h5, f"{root(h5).name}/{name}", value)

        return mutate

    def model_config(value: object) -> Callable[[h5py.File], None]:
        return lambda h5: _replace_attr(h5, "model_config", value)

    mutations: list[tuple[str, Callable[[h5py.File], None]]] = [
        ("weight_names -> missing dataset", missing_weight),
        ("weight dataset deleted", drop_weight_dataset),
        ("weight is a group", weight_is_group),
        ("weight_names duplicated", duplicate_weight_names),
        ("weight_names = int array", set_weight_names(np.arange(3))),
        ("weight_names = scalar str", set_weight_names("kernel:0")),
        ("weight_names = empty", set_weight_names(np.array([], dtype="S1"))),
        ("weight_names = 2-D", set_weight_names(np.array([[b"a", b"b"], [b"c", b"d"]]))),
        ("weight_names = float", set_weight_names(1.5)),
        ("weight_names deleted", set_weight_names(_MISSING)),
        ("layer_names = int array", set_layer_names(np.arange(4))),
        ("layer_names = scalar str", set_layer_names("lstm")),
        ("layer_names = float scalar", set_layer_names(3.0)),
        ("layer_names = empty", set_layer_names(np.array([], dtype="S1"))),
        ("layer_names -> missing group", set_layer_names(np.array([b"nope", b"also_nope"]))),
        ("layer_names = 2-D", set_layer_names(np.array([[b"a"], [b"b"]]))),
        ("layer_names = non-utf8", set_layer_names(np.array([b"\xff\xfe"]))),
        ("layer_names = path traversal", set_layer_names(np.array([b"../..", b"/"]))),
        ("weight shape (1,)", shape(np.zeros(1, "f4"))),
        ("weight shape ()", shape(np.float32(1))),
        ("weight shape (0,0)", shape(np.zeros((0, 0), "f4"))),
        ("weight shape (3,5,7,2,2,1)", shape(np.zeros((3, 5, 7, 2, 2, 1), "f4"))),
        ("weight dtype str", shape(np.array([b"abc", b"def"]))),
        ("weight dtype complex", shape(np.zeros((3, 4), "c8"))),
        ("weight dtype int8", shape(np.zeros((3, 4), "i1"))),
        ("weight dtype bool", shape(np.zeros((3, 4), "?"))),
        ("weight compound dtype", shape(np.zeros(4, dtype=[("a", "f4"), ("b", "i4")]))),
        ("weight dtype float64 big-endian", shape(np.ones((3, 16), ">f8"))),
        ("every dataset scalar", every_dataset(np.float32(0))),
        ("every dataset (7,)", every_dataset(np.zeros(7, "f4"))),
    ]
    if full:
        for label, value in [
            ("invalid JSON", '{"class_name": "Sequential", "config": '),
            ("list", "[1, 2, 3]"),
            ("number", "42"),
            ("null", "null"),
            ("string", '"Sequential"'),
            ("empty", ""),
            ("bytes non-utf8", np.void(b"\xff\xfe")),
            ("int attr", 7),
            ("array attr", np.arange(3)),
            ("deep nesting", _deep(3000)),
            ("deep list", "[" * 50_000 + "]" * 50_000),
            ("deleted", _MISSING),
        ]:
            mutations.append((f"model_config {label}", model_config(value)))
        for label, value in [
            ("keras_version int", 3),
            ("keras_version garbage", np.void(b"\xff\x00\x01")),
            ("keras_version 99", "99.0.0"),
            ("backend array", np.arange(2)),
        ]:
            key = label.split()[0]
            mutations.append((label, lambda h5, key=key, value=value: _replace_attr(h5, key, value)))
    return mutations


def _k3_h5_mutations() -> list[tuple[str, Callable[[h5py.File], None]]]:
    """(label, mutate(h5)) for Keras 3 ``.weights.h5`` (layers/<name>/cell/vars/<i>)."""

    def first_vars(h5: h5py.File) -> str:
        for name in _datasets(h5):
            if "/vars/" in name:
                return name
        raise AssertionError("no vars")

    def shape(new: object) -> Callable[[h5py.File], None]:
        return lambda h5: _replace_dataset(h5, first_vars(h5), new)

    def rename_vars(h5: h5py.File) -> None:
        name = first_vars(h5)
        h5.move(name, name.rsplit("/", 1)[0] + "/banana")

    def vars_index_huge(h5: h5py.File) -> None:
        name = first_vars(h5)
        h5.move(name, name.rsplit("/", 1)[0] + "/99999999999999999999")

    def vars_is_dataset(h5: h5py.File) -> None:
        name = first_vars(h5).rsplit("/", 1)[0]
        del h5[name]
        h5.create_dataset(name, data=np.zeros(3))

    def layers_is_dataset(h5: h5py.File) -> None:
        del h5["layers"]
        h5.create_dataset("layers", data=np.zeros(3))

    def empty_layers(h5: h5py.File) -> None:
        for key in list(h5["layers"].keys()):
            del h5["layers"][key]

    def cell_dropped(h5: h5py.File) -> None:
        name = first_vars(h5)
        del h5[name.split("/cell/")[0] + "/cell"]

    def name_attr(value: object) -> Callable[[h5py.File], None]:
        return lambda h5: _replace_attr(h5[first_vars(h5).rsplit("/", 1)[0]], "name", value)

    return [
        ("vars/0 shape (1,)", shape(np.zeros(1, "f4"))),
        ("vars/0 scalar", shape(np.float32(2))),
        ("vars/0 shape (0,16)", shape(np.zeros((0, 16), "f4"))),
        ("vars/0 strings", shape(np.array([b"a", b"b"]))),
        ("vars/0 shape (2,3,4,5,6,7)", shape(np.zeros((2, 3, 4, 5, 6, 7), "f4"))),
        ("vars/0 renamed non-numeric", rename_vars),
        ("vars/0 renamed huge index", vars_index_huge),
        ("vars is a dataset", vars_is_dataset),
        ("layers is a dataset", layers_is_dataset),
        ("layers empty", empty_layers),
        ("cell group dropped", cell_dropped),
        ("vars name attr int", name_attr(5)),
        ("vars name attr array", name_attr(np.arange(3))),
        ("vars name attr non-utf8", name_attr(np.void(b"\xff"))),
    ]


H5_MUTATION_TARGETS = (
    [(name, path, _legacy_h5_mutations(full=True)) for name, path in sorted(H5_FULL.items())]
    + [(name, path, _legacy_h5_mutations(full=False)) for name, path in sorted(H5_WEIGHTS.items())]
    + [(name, path, _k3_h5_mutations()) for name, path in sorted(K3_WEIGHTS.items())]
)


@pytest.mark.parametrize(("name", "src", "mutations"), H5_MUTATION_TARGETS, ids=[t[0] for t in H5_MUTATION_TARGETS])
def test_hdf5_structure_mangled(
    tmp_path: Path, name: str, src: Path, mutations: list[tuple[str, Callable[[h5py.File], None]]]
) -> None:
    cases = []
    for index, (label, mutate) in enumerate(mutations):
        target = tmp_path / f"{index:03d}.h5"
        shutil.copy(src, target)
        with h5py.File(target, "r+") as h5:
            mutate(h5)
        cases.append((target, f"{name} {label}"))
    _assert_all_behave(cases)


def test_legacy_model_config_json_mutations(tmp_path: Path) -> None:
    """model_config of a full .h5 model, mutated like config.json."""
    src = H5_FULL["tfk_full"]
    with h5py.File(src) as h5:
        text = h5.attrs["model_config"]
    text = text.decode() if isinstance(text, bytes) else str(text)
    rng = random.Random("h5/model_config")
    cases = []
    for index, (label, new) in enumerate(_json_variants(text, rng, 30)):
        if label == "not-utf8":
            continue  # an h5py str attr cannot hold it; bytes variant is in the structure test
        target = tmp_path / f"{index:03d}.h5"
        shutil.copy(src, target)
        with h5py.File(target, "r+") as h5:
            _replace_attr(h5, "model_config", new)
        cases.append((target, f"tfk_full model_config {label}"))
    _assert_all_behave(cases)


# --- shape bombs: run in a child with an address-space cap -----------------------------------
_CHILD = """
import sys, kernelsplit
from kernelsplit.errors import KernelsplitError
a = kernelsplit.try_open(sys.argv[1])
assert a.error is None or isinstance(a.error, KernelsplitError), repr(a.error)
print("error" if a.error else "ok", a.error.code if a.error else "")
"""
_CHILD_LIMIT = 1536 * 1024 * 1024  # 1.5 GB of address space: far above any fixture's need


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_CHILD_LIMIT, _CHILD_LIMIT))


def _bombs(src: Path, tmp: Path) -> list[tuple[Path, str]]:
    cases = []
    specs = [
        ("chunked 2**20 x 2**16 float32 (4 TB, nothing stored)", (2**20, 2**16), {"chunks": (1, 16)}),
        ("chunked 40000 x 40000 float32 (6.4 GB)", (40000, 40000), {"chunks": (8, 8)}),
        (
            "compressed zeros 16000 x 16000 float32 (1 GB)",
            (16000, 16000),
            {"chunks": (1000, 1000), "compression": "gzip", "fillvalue": 0.0},
        ),
    ]
    for index, (label, shape, kwargs) in enumerate(specs):
        target = tmp / f"bomb{index}.h5"
        shutil.copy(src, target)
        with h5py.File(target, "r+") as h5:
            name = next(n for n in _datasets(h5) if "kernel" in n and "recurrent" not in n)
            del h5[name]
            h5.create_dataset(name, shape=shape, dtype="f4", **kwargs)
        cases.append((target, label))
    return cases


def test_shape_bombs_are_refused_without_allocating(tmp_path: Path) -> None:
    problems = []
    for path, label in _bombs(H5_FULL["tfk_full"], tmp_path):
        assert path.stat().st_size < 5_000_000, label
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_limit,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        if proc.returncode != 0 or "Traceback" in proc.stderr:
            problems.append(f"{label}: child exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    assert not problems, "\n".join(problems)


# --- non-finite numbers in JSON: json.loads accepts NaN/Infinity, our JSON output must stay strict ---
def _nonfinite_cases() -> list[object]:
    cases = []
    for value in ("NaN", "Infinity", "-Infinity"):
        cases.append(pytest.param("metadata.json", "keras_version", value, id=f"metadata-keras_version-{value}"))
        cases.append(pytest.param("metadata.json", "date_saved", value, id=f"metadata-date_saved-{value}"))
        for key in ("units", "activation", "dtype", "use_bias", "go_backwards", "dropout", "name"):
            # these keys are echoed in the layer's JSON "config": output must stay strict JSON
            cases.append(pytest.param("config.json", key, value, id=f"config-lstm-{key}-{value}"))
    return cases


@pytest.mark.parametrize(("member", "key", "literal"), _nonfinite_cases())
def test_non_finite_json_numbers(tmp_path: Path, member: str, key: str, literal: str) -> None:
    src = KERAS_ZIP["k3_zip"]
    doc = json.loads(zipfile.ZipFile(src).read(member))
    if member == "metadata.json":
        doc[key] = "@@"
    else:
        doc["config"]["layers"][1]["config"][key] = "@@"  # layers[0] is the InputLayer
    target = tmp_path / "nonfinite.keras"
    _rezip(src, target, {member: json.dumps(doc).replace('"@@"', literal).encode()})
    _assert_all_behave([(target, f"k3_zip {member} {key}={literal}")])


def test_one_batch_of_damaged_files_still_reports_the_good_one(tmp_path: Path) -> None:
    """Many broken paths and one good one in one run: one error line each, the good one in JSON."""
    good = KERAS_ZIP["k3_zip"]
    data = H5_FULL["tfk_full"].read_bytes()
    rng = random.Random("batch")
    paths = []
    for index, (_label, blob) in enumerate(_truncations(data, rng)):
        target = tmp_path / f"t{index:02d}.h5"
        target.write_bytes(blob)
        paths.append(str(target))
    spaced = tmp_path / "with space.h5"
    spaced.write_bytes(data[:100])
    paths += [str(spaced), str(good), str(tmp_path / "missing.h5"), str(tmp_path)]
    with _no_hang("batch"):
        result = CliRunner().invoke(cli, ["inspect", "--format", "json", *paths], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    by_path = {a["path"]: a for a in doc["artifacts"]}
    paths.pop()  # the folder is walked: it holds the same files, each reported once
    assert list(by_path) == paths
    assert by_path[str(good)]["error"] is None and by_path[str(good)]["layers"]
    failed = [p for p in paths if by_path[p]["error"] is not None]
    lines = result.stderr.splitlines()
    assert sorted(lines) == sorted(f"{PREFIX}{p}: {by_path[p]['error']['message']}" for p in failed)
