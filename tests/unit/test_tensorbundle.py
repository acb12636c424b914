"""The pure-Python TensorBundle / SavedModel reader against TensorFlow's own reader, plus hostile input.

TensorFlow is a test dependency only: it is imported inside the comparison tests, and a subprocess
test checks that kernelsplit's reader itself never imports it.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support.paths import FIXTURES as FIXTURE_ROOT
from support.paths import REPO, SHARED

import kernelsplit
from kernelsplit.errors import (
    CorruptFileError,
    KernelsplitError,
    NotFoundError,
    UnsupportedError,
)
from kernelsplit.readers.tf import metadata, object_graph
from kernelsplit.readers.tf import protowire as pw
from kernelsplit.readers.tf.contents import read_checkpoint, read_savedmodel
from kernelsplit.readers.tf.crc32c import crc32c, mask_crc, unmask_crc
from kernelsplit.readers.tf.prefix import (
    is_checkpoint_prefix,
    is_savedmodel_dir,
)
from kernelsplit.readers.tf.tensorbundle import TensorBundle

FIXTURES = FIXTURE_ROOT / "savedmodel"
HAR = SHARED / "realworld" / "files" / "529669517__HAR_LSTM" / "saved_lstm"

PREFIXES = {
    "tfk_savedmodel": FIXTURES / "tfk_savedmodel" / "variables" / "variables",
    "tfk_traced_gru": FIXTURES / "tfk_traced_gru" / "variables" / "variables",
    "tfk_ckpt": FIXTURES / "tfk_ckpt" / "ckpt",
    "k3_export": FIXTURES / "k3_export" / "variables" / "variables",
}


def _har() -> Path:
    if not HAR.is_dir():
        pytest.skip(f"shared real-world files not present ({HAR} is absent)")
    return HAR


def _prefix_cases() -> list:
    cases = [pytest.param(p, id=name) for name, p in PREFIXES.items()]
    cases.append(pytest.param(None, id="realworld-HAR_LSTM"))
    return cases


# ------------------------------------------------------------------------- against TensorFlow


@pytest.mark.parametrize("prefix", _prefix_cases())
def test_bundle_equals_tensorflow(prefix: Path | None) -> None:
    if prefix is None:
        prefix = _har() / "variables" / "variables"
    tf = pytest.importorskip("tensorflow")
    reader = tf.train.load_checkpoint(str(prefix))
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    bundle = TensorBundle.open(prefix)
    assert set(bundle.keys()) == set(shapes)
    for key in shapes:
        entry = bundle.entry(key)
        assert entry.dtype == dtypes[key].name, key
        assert list(entry.shape) == list(shapes[key]), key
        expected = reader.get_tensor(key)
        got = bundle.read(key)
        if entry.dtype == "string":
            assert got.shape == np.shape(expected)
            assert got.reshape(-1).tolist() == np.asarray(expected, dtype=object).reshape(-1).tolist()
        else:
            assert got.dtype == expected.dtype, key
            assert got.shape == expected.shape, key
            assert np.array_equal(got, expected), key


@pytest.mark.parametrize("prefix", _prefix_cases())
def test_object_graph_equals_tensorflow(prefix: Path | None) -> None:
    if prefix is None:
        prefix = _har() / "variables" / "variables"
    tf = pytest.importorskip("tensorflow")
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    raw = tf.train.load_checkpoint(str(prefix)).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH")
    proto = trackable_object_graph_pb2.TrackableObjectGraph()
    proto.ParseFromString(raw)
    nodes = object_graph.parse_object_graph(TensorBundle.open(prefix).read_strings("_CHECKPOINTABLE_OBJECT_GRAPH")[0])
    assert len(nodes) == len(proto.nodes)
    for mine, theirs in zip(nodes, proto.nodes, strict=True):
        assert mine.children == [(c.node_id, c.local_name) for c in theirs.children]
        assert [(a.name, a.full_name, a.checkpoint_key) for a in mine.attributes] == [
            (a.name, a.full_name, a.checkpoint_key) for a in theirs.attributes
        ]
        assert mine.slot_variables == [
            (s.original_variable_node_id, s.slot_name, s.slot_variable_node_id) for s in theirs.slot_variables
        ]


@pytest.mark.parametrize("name", ["tfk_savedmodel", "tfk_traced_gru", "k3_export", "HAR"])
def test_saved_model_proto_equals_tensorflow(name: str) -> None:
    folder = _har() if name == "HAR" else FIXTURES / name
    pytest.importorskip("tensorflow")
    from tensorflow.core.protobuf import saved_model_pb2

    data = (folder / "saved_model.pb").read_bytes()
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(data)
    mine = metadata.parse_saved_model(data)
    meta = proto.meta_graphs[0]
    assert mine.tensorflow_version == meta.meta_info_def.tensorflow_version
    assert mine.tags == list(meta.meta_info_def.tags)
    assert len(mine.object_graph) == len(meta.object_graph_def.nodes)
    for node, theirs in zip(mine.object_graph, meta.object_graph_def.nodes, strict=True):
        assert node.children == [(c.node_id, c.local_name) for c in theirs.children]
        if theirs.WhichOneof("kind") == "user_object":
            assert node.identifier == theirs.user_object.identifier
            assert (node.metadata or "") == theirs.user_object.metadata


@pytest.mark.parametrize("name", ["tfk_savedmodel", "tfk_traced_gru"])
def test_keras_metadata_equals_tf_keras_proto(name: str) -> None:
    pytest.importorskip("tensorflow")
    saved_metadata_pb2 = pytest.importorskip("tf_keras.protobuf.saved_metadata_pb2")
    import json

    data = (FIXTURES / name / "keras_metadata.pb").read_bytes()
    proto = saved_metadata_pb2.SavedMetadata()
    proto.ParseFromString(data)
    mine = metadata.parse_keras_metadata(data)
    assert [(n.node_id, n.node_path, n.identifier, n.metadata) for n in mine] == [
        (n.node_id, n.node_path, n.identifier, json.loads(n.metadata)) for n in proto.nodes
    ]


# ----------------------------------------------------------------------------- contents/paths


def test_tf_keras_savedmodel_contents() -> None:
    contents = read_savedmodel(FIXTURES / "tfk_savedmodel")
    assert contents.format == "savedmodel"
    assert contents.keras_version == "2.21.0"
    assert contents.metadata_source == "keras_metadata.pb"
    by_path = {v.path: v for v in contents.variables}
    kernel = by_path[("layer_with_weights-0", "cell", "kernel")]
    assert kernel.full_name == "lstm/lstm_cell/kernel"
    assert kernel.shape == (3, 16) and kernel.dtype == "float32"
    assert ("layer_with_weights-2", "backward_layer", "cell", "bias") in by_path
    lstm = contents.node_at(("layer_with_weights-0",))
    assert lstm is not None and lstm.metadata["class_name"] == "LSTM"
    assert lstm.node_path == "root.layer_with_weights-0"
    gru = contents.node_at(("layer_with_weights-1",))
    assert gru is not None and gru.metadata["config"]["reset_after"] is True


def test_traced_savedmodel_maps_numbered_keys_to_layer_paths() -> None:
    contents = read_savedmodel(FIXTURES / "tfk_traced_gru")
    by_path = {v.path: v for v in contents.variables}
    kernel = by_path[("layer_with_weights-0", "cell", "kernel")]
    assert kernel.key == "variables/0/.ATTRIBUTES/VARIABLE_VALUE"
    assert kernel.shortest_path == ("variables", "0")
    bias = by_path[("layer_with_weights-0", "cell", "bias")]
    assert bias.shape == (6,)  # reset_after=False


def test_checkpoint_contents_and_detection() -> None:
    folder = FIXTURES / "tfk_ckpt"
    assert is_checkpoint_prefix(folder)
    assert is_checkpoint_prefix(folder / "ckpt")
    assert is_checkpoint_prefix(folder / "ckpt.index")
    assert not is_checkpoint_prefix(FIXTURES / "tfk_savedmodel")
    assert is_savedmodel_dir(FIXTURES / "tfk_savedmodel")
    assert not is_savedmodel_dir(folder)
    for given in (folder, folder / "ckpt", folder / "ckpt.index"):
        contents = read_checkpoint(given)
        assert contents.format == "tf-checkpoint" and contents.nodes == []
        paths = {v.path for v in contents.variables}
        assert ("layer_with_weights-2", "forward_layer", "cell", "recurrent_kernel") in paths
        assert not any(p[0] in ("optimizer", "save_counter") for p in paths)


def test_keras3_export_has_no_config_but_full_names() -> None:
    contents = read_savedmodel(FIXTURES / "k3_export")
    assert contents.nodes == [] and contents.metadata_source is None
    names = {v.full_name for v in contents.variables}
    assert "my_lstm/lstm_cell/kernel" in names and "my_gru/gru_cell/bias" in names
    keys = {v.key.split("/")[0] for v in contents.variables}
    assert keys == {"variables", "_all_variables"}


def test_realworld_savedmodel_embedded_metadata() -> None:
    contents = read_savedmodel(_har())
    assert contents.metadata_source == "saved_model.pb"
    assert contents.keras_version == "2.4.0"
    assert contents.tensorflow_version == "2.3.0"
    lstm = contents.node_at(("layer_with_weights-0",))
    assert lstm is not None and lstm.identifier == "_tf_keras_rnn_layer"
    assert lstm.metadata["config"]["units"] == 64
    by_path = {v.path: v for v in contents.variables}
    kernel = by_path[("layer_with_weights-0", "cell", "kernel")]
    assert kernel.key == "trainable_variables/0/.ATTRIBUTES/VARIABLE_VALUE"
    assert kernel.shape == (9, 256)
    assert not any(".OPTIMIZER_SLOT" in v.key or v.key.startswith("optimizer/") for v in contents.variables)


def test_v1_checkpoint_refused() -> None:
    folder = FIXTURES / "v1_ckpt"
    for given in (folder, folder / "model.ckpt"):
        with pytest.raises(UnsupportedError, match=r"TF V1 checkpoint \(tf.train.Saver V1\)"):
            read_checkpoint(given)


def test_no_tensorflow_import() -> None:
    code = (
        "import sys\n"
        "from kernelsplit.readers.tf.contents import read_savedmodel, read_checkpoint\n"
        f"c = read_savedmodel({str(FIXTURES / 'tfk_savedmodel')!r})\n"
        "[c.read(v) for v in c.variables]\n"
        f"c = read_checkpoint({str(FIXTURES / 'tfk_ckpt')!r})\n"
        "[c.read(v) for v in c.variables]\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'keras',"
        " 'google')]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# -------------------------------------------------------------------------------------- crc32c


def test_crc32c_known_values_and_extend() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    data = np.random.default_rng(3).integers(0, 256, 300_001, dtype=np.uint8).tobytes()
    reference = crc32c(data[:1000])
    for i in range(1000, len(data), 1000):  # short chunks use the scalar loop
        reference = crc32c(data[i : i + 1000], reference)
    assert crc32c(data) == reference
    assert crc32c(data[77_777:], crc32c(data[:77_777])) == reference
    assert unmask_crc(mask_crc(reference)) == reference


# ------------------------------------------------------------------- hostile, hand-built bundles


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value: int | bytes, fixed32: bool = False) -> bytes:
    if isinstance(value, bytes):
        return _varint(number << 3 | 2) + _varint(len(value)) + value
    if fixed32:
        return _varint(number << 3 | 5) + struct.pack("<I", value)
    return _varint(number << 3) + _varint(value & ((1 << 64) - 1))


def _header(num_shards: int = 1, endianness: int = 0) -> bytes:
    return _field(1, num_shards) + (_field(2, endianness) if endianness else b"") + _field(3, _field(1, 1))


def _entry(
    shape: tuple[int, ...],
    offset: int,
    size: int,
    dtype: int = 1,
    shard: int = 0,
    crc: int | None = None,
    sliced: bool = False,
) -> bytes:
    shape_proto = b"".join(_field(2, _field(1, d)) for d in shape)
    out = _field(1, dtype) + _field(2, shape_proto) + _field(3, shard) + _field(4, offset)
    out += _field(5, size)
    if crc is not None:
        out += _field(6, crc, fixed32=True)
    if sliced:
        out += _field(7, _field(1, b""))
    return out


def _block(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack("<I", 0) + struct.pack("<I", 1)


def _table(entries: list[tuple[bytes, bytes]], compression: int = 0) -> bytes:
    data_block = _block(entries)
    out = bytearray(data_block)
    out += bytes([compression]) + struct.pack("<I", mask_crc(crc32c(data_block + bytes([compression]))))
    meta_offset = len(out)
    meta_block = _block([])
    out += meta_block + b"\0" + struct.pack("<I", mask_crc(crc32c(meta_block + b"\0")))
    index_offset = len(out)
    index_block = _block([(entries[-1][0], _varint(0) + _varint(len(data_block)))])
    out += index_block + b"\0" + struct.pack("<I", mask_crc(crc32c(index_block + b"\0")))
    handles = _varint(meta_offset) + _varint(len(meta_block)) + _varint(index_offset)
    handles += _varint(len(index_block))
    out += handles.ljust(40, b"\0") + struct.pack("<Q", 0xDB4775248B80FB57)
    return bytes(out)


def _write(
    tmp: Path,
    entries: list[tuple[bytes, bytes]],
    data: bytes = b"",
    num_shards: int = 1,
    compression: int = 0,
    write_data: bool = True,
) -> Path:
    prefix = tmp / "ckpt"
    (tmp / "ckpt.index").write_bytes(_table(entries, compression))
    if write_data:
        (tmp / f"ckpt.data-00000-of-{num_shards:05d}").write_bytes(data)
    return prefix


VALUES = np.arange(6, dtype="<f4")


def _good(tmp: Path, **entry_kwargs: object) -> Path:
    data = VALUES.tobytes()
    kwargs = {"shape": (2, 3), "offset": 0, "size": len(data), "crc": mask_crc(crc32c(data))}
    kwargs.update(entry_kwargs)
    return _write(tmp, [(b"", _header()), (b"w", _entry(**kwargs))], data)  # type: ignore[arg-type]


def test_hand_built_bundle_reads(tmp_path: Path) -> None:
    bundle = TensorBundle.open(_good(tmp_path))
    assert np.array_equal(bundle.read("w"), VALUES.reshape(2, 3))


def test_bfloat16_keeps_raw_words(tmp_path: Path) -> None:
    words = np.array([0x3F80, 0xC000, 0x0000, 0x7F80], dtype="<u2")  # 1, -2, 0, inf
    data = words.tobytes()
    prefix = _write(
        tmp_path, [(b"", _header()), (b"w", _entry((4,), 0, len(data), dtype=14, crc=mask_crc(crc32c(data))))], data
    )
    values, raw = TensorBundle.open(prefix).read_with_raw("w")
    assert values.dtype == np.float32 and values.tolist() == [1.0, -2.0, 0.0, np.inf]
    assert raw is not None and raw.tobytes() == data


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"offset": 1 << 40}, CorruptFileError),
        ({"size": 1 << 40, "shape": (1 << 38,)}, CorruptFileError),
        ({"offset": 8}, CorruptFileError),  # runs past the end of the data file
        ({"size": 20}, CorruptFileError),  # size != dtype x shape
        ({"shape": (1 << 62, 1 << 62)}, CorruptFileError),
        ({"crc": 12345}, CorruptFileError),
        ({"sliced": True}, UnsupportedError),
        ({"dtype": 21}, UnsupportedError),  # DT_VARIANT
        ({"shard": 3}, CorruptFileError),
    ],
)
def test_hostile_entries(tmp_path: Path, kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        TensorBundle.open(_good(tmp_path, **kwargs)).read("w")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"offset": 8}, CorruptFileError),  # runs past the end of the data file
        ({"size": 20}, CorruptFileError),  # size != dtype x shape
        ({"crc": 12345}, CorruptFileError),
        ({"sliced": True}, UnsupportedError),
    ],
)
def test_hostile_entries_read_on_demand(tmp_path: Path, kwargs: dict, error: type) -> None:
    """The lazy path (``TensorBundle.data``) refuses what the eager one does, at open, checksum included."""
    with pytest.raises(error):
        TensorBundle.open(_good(tmp_path, **kwargs)).data("w")


def test_tensors_read_on_demand_are_the_stored_ones(tmp_path: Path) -> None:
    bundle = TensorBundle.open(_good(tmp_path))
    data = bundle.data("w")
    assert data is not None and data.shape == (2, 3)
    assert np.array_equal(data.read((0, 2, 0, 3)), VALUES.reshape(2, 3))
    assert np.array_equal(data.read((1, 2, 1, 3)), VALUES.reshape(2, 3)[1:, 1:])


def test_a_flipped_weight_byte_fails_the_checksum_at_open(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "tfk_ckpt", tmp_path / "c")
    data_file = tmp_path / "c" / "ckpt.data-00000-of-00001"
    contents = read_checkpoint(tmp_path / "c")
    largest = max(contents.variables, key=lambda v: contents.bundle.entry(v.key).size)  # type: ignore[union-attr]
    entry = contents.bundle.entry(largest.key)  # type: ignore[union-attr]
    mutated = bytearray(data_file.read_bytes())
    mutated[entry.offset + entry.size // 2] ^= 0x40
    data_file.write_bytes(bytes(mutated))
    outcome = kernelsplit.try_open(tmp_path / "c" / "ckpt")
    assert isinstance(outcome, kernelsplit.Failure) and "crc32c" in outcome.error.message


def test_big_endian_header_refused(tmp_path: Path) -> None:
    prefix = _write(tmp_path, [(b"", _header(endianness=1)), (b"w", _entry((1,), 0, 4))], b"\0" * 4)
    with pytest.raises(UnsupportedError, match="big-endian"):
        TensorBundle.open(prefix)


def test_compressed_block_refused(tmp_path: Path) -> None:
    prefix = _write(tmp_path, [(b"", _header()), (b"w", _entry((1,), 0, 4))], b"\0" * 4, compression=1)
    with pytest.raises(UnsupportedError, match="compressed"):
        TensorBundle.open(prefix)


def test_compressed_flag_on_real_index(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "tfk_ckpt", tmp_path / "c")
    index = tmp_path / "c" / "ckpt.index"
    data = bytearray(index.read_bytes())
    footer = memoryview(bytes(data[-48:]))
    _, pos = pw.read_varint(footer, 0)  # metaindex handle
    _, pos = pw.read_varint(footer, pos)
    index_offset, pos = pw.read_varint(footer, pos)
    index_size, _ = pw.read_varint(footer, pos)
    data[index_offset + index_size] = 1  # the index block's compression byte
    index.write_bytes(bytes(data))
    with pytest.raises(UnsupportedError):
        read_checkpoint(tmp_path / "c")


def test_missing_data_shard(tmp_path: Path) -> None:
    prefix = _write(tmp_path, [(b"", _header()), (b"w", _entry((1,), 0, 4))], write_data=False)
    with pytest.raises(CorruptFileError, match="data shard missing"):
        TensorBundle.open(prefix)


def test_missing_header_and_bad_num_shards(tmp_path: Path) -> None:
    prefix = _write(tmp_path, [(b"w", _entry((1,), 0, 4))], b"\0" * 4)
    with pytest.raises(CorruptFileError, match="BundleHeaderProto"):
        TensorBundle.open(prefix)
    prefix = _write(tmp_path, [(b"", _header(num_shards=-1)), (b"w", _entry((1,), 0, 4))])
    with pytest.raises(CorruptFileError):
        TensorBundle.open(prefix)


def test_missing_and_v1_prefixes(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        TensorBundle.open(tmp_path / "nothing")
    (tmp_path / "model.ckpt").write_bytes(_table([(b"", b"")]))
    with pytest.raises(UnsupportedError, match="V1"):
        TensorBundle.open(tmp_path / "model.ckpt")
    with pytest.raises(UnsupportedError, match="V1"):
        read_checkpoint(tmp_path / "model.ckpt")


def test_truncated_and_bad_magic_index(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "tfk_ckpt", tmp_path / "c")
    index = tmp_path / "c" / "ckpt.index"
    original = index.read_bytes()
    for cut in (0, 10, 47, len(original) // 2, len(original) - 1):
        index.write_bytes(original[:cut])
        with pytest.raises(CorruptFileError):
            read_checkpoint(tmp_path / "c")
    index.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    with pytest.raises(CorruptFileError, match="magic"):
        read_checkpoint(tmp_path / "c")


def test_random_corruption_never_leaks_other_exceptions(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "tfk_ckpt", tmp_path / "c")
    index = tmp_path / "c" / "ckpt.index"
    data_file = tmp_path / "c" / "ckpt.data-00000-of-00001"
    original_index, original_data = index.read_bytes(), data_file.read_bytes()
    rng = random.Random(1)
    for trial in range(300):
        target, original = (index, original_index) if trial % 2 else (data_file, original_data)
        mutated = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        target.write_bytes(bytes(mutated))
        for verify in (True, False):
            try:
                contents = read_checkpoint(tmp_path / "c", verify_crc=verify)
                for variable in contents.variables:
                    contents.read(variable)
            except KernelsplitError:
                pass
        target.write_bytes(original)


@pytest.mark.parametrize(
    "parser", [object_graph.parse_object_graph, metadata.parse_keras_metadata, metadata.parse_saved_model]
)
def test_protowire_garbage_raises_corrupt(parser: object) -> None:
    rng = random.Random(7)
    source = (FIXTURES / "tfk_savedmodel" / "keras_metadata.pb").read_bytes()
    for _ in range(300):
        if rng.random() < 0.5:
            blob = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        else:
            cut = bytearray(source[: rng.randint(0, len(source))])
            if cut:
                cut[rng.randrange(len(cut))] = rng.randrange(256)
            blob = bytes(cut)
        with contextlib.suppress(CorruptFileError):
            parser(blob)  # type: ignore[operator]


@pytest.mark.parametrize(
    "blob",
    [
        b"\x08",
        b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        b"\x0a\x05ab",
        b"\x0d\x01",
        b"\x09\x01\x02",
        b"\x0b",
        b"\x00\x01",
        b"\x0f",
    ],
)
def test_protowire_specific_errors(blob: bytes) -> None:
    with pytest.raises(CorruptFileError):
        list(pw.iter_fields(blob))


def test_savedmodel_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        read_savedmodel(tmp_path / "missing")
    folder = tmp_path / "sm"
    shutil.copytree(FIXTURES / "tfk_savedmodel", folder)
    (folder / "variables" / "variables.index").unlink()
    with pytest.raises(CorruptFileError):
        read_savedmodel(folder)
    (folder / "saved_model.pb").write_bytes(b"\x12\x05abc")
    with pytest.raises(CorruptFileError):
        read_savedmodel(folder)
