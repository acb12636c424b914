"""Read a TensorFlow V2 checkpoint (TensorBundle) with numpy only.

Layout (``tensorflow/core/util/tensor_bundle/tensor_bundle.cc``; FORMATS.md §5.3):

* ``<prefix>.index`` is a LevelDB-format SSTable: a 48-byte footer (metaindex and index block
  handles, magic ``0xdb4775248b80fb57``), an index block mapping separator keys to data-block
  handles, data blocks of prefix-compressed entries with a restart array, each block followed by a
  1-byte compression type (TensorFlow writes 0 = none) and a masked crc32c.
* Key ``""`` holds ``BundleHeaderProto``; every other key a ``BundleEntryProto``.
* ``<prefix>.data-<shard:05d>-of-<num:05d>`` holds raw little-endian C-order tensor bytes.

Everything read from the files is treated as hostile: offsets and sizes are checked against the
real file sizes before any read or allocation, and every inconsistency raises
:class:`CorruptFileError`; layouts we could only guess at raise :class:`UnsupportedError`.

CRC32C: block checksums of the ``.index`` and every tensor's checksum are verified (``verify_crc``,
on by default) with a numpy implementation that runs thousands of byte streams in parallel and
combines the partial CRCs with GF(2) shift operators; it costs roughly 5-10 ms per MB (see
:func:`crc32c`).
"""

from __future__ import annotations

import itertools
import os
import re
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, NotFoundError, UnsupportedError
from . import protowire as pw

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
#: An ``.index`` larger than this is not something TensorFlow wrote for a Keras model.
MAX_INDEX_BYTES = 1 << 30
MAX_RANK = 254
MAX_SHARDS = 1 << 20

V1_MESSAGE = (
    "TF V1 checkpoint (tf.train.Saver V1) is not supported: its tensor-slice format predates the "
    "TensorBundle; re-save it with TensorFlow 2 (tf.train.Checkpoint / model.save_weights)"
)

#: DataType enum value -> (name, numpy dtype or None for strings).
DTYPES: dict[int, tuple[str, str | None]] = {
    1: ("float32", "<f4"),
    2: ("float64", "<f8"),
    3: ("int32", "<i4"),
    4: ("uint8", "|u1"),
    5: ("int16", "<i2"),
    6: ("int8", "|i1"),
    7: ("string", None),
    9: ("int64", "<i8"),
    10: ("bool", "|b1"),
    14: ("bfloat16", "<u2"),
    17: ("uint16", "<u2"),
    19: ("float16", "<f2"),
    22: ("uint32", "<u4"),
    23: ("uint64", "<u8"),
}
DT_STRING = 7
DT_BFLOAT16 = 14
_DTYPE_NAMES = {
    8: "complex64",
    11: "qint8",
    12: "quint8",
    13: "qint32",
    15: "qint16",
    16: "quint16",
    18: "complex128",
    20: "resource",
    21: "variant",
}


# --------------------------------------------------------------------------------------- crc32c

_POLY = 0x82F63B78  # Castagnoli, reflected
_MASK_DELTA = 0xA282EAD8


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


def _raw_update_py(state: int, data: bytes | memoryview) -> int:
    """Byte-at-a-time CRC register update (no pre/post inversion). For short inputs."""
    table = _table().tolist()
    for byte in bytes(data):
        state = table[(state ^ byte) & 0xFF] ^ (state >> 8)
    return state


_BITS = np.arange(32, dtype=np.uint32)


def _apply(matrix: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Apply a GF(2) 32x32 operator (its 32 column images, uint32) to a vector of CRC states."""
    bits = (values[:, None] >> _BITS) & np.uint32(1)
    return np.bitwise_xor.reduce(np.where(bits.astype(bool), matrix[None, :], np.uint32(0)), axis=1)


@lru_cache(maxsize=1)
def _one_zero_byte() -> np.ndarray:
    basis = (np.uint32(1) << _BITS).astype(np.uint32)
    return (_table()[basis & np.uint32(0xFF)] ^ (basis >> np.uint32(8))).astype(np.uint32)


def _shift_operator(nbytes: int) -> np.ndarray:
    """The operator mapping a CRC state to the state after ``nbytes`` zero bytes."""
    result = (np.uint32(1) << _BITS).astype(np.uint32)  # identity
    square = _one_zero_byte()
    while nbytes:
        if nbytes & 1:
            result = _apply(square, result)
        nbytes >>= 1
        if nbytes:
            square = _apply(square, square)
    return result


def _raw_update_np(data: np.ndarray) -> int:
    """CRC register of ``data`` starting from state 0, computed over many streams in parallel.

    The bytes are split into ``k`` equal chunks (zero-padded at the front: zeros fed into a zero
    state leave it zero), one table step runs on all chunks at once, then adjacent chunk states are
    combined pairwise with the "append n zero bytes" operator: state(A+B) = shift_|B|(state(A)) ^
    state(B).
    """
    n = data.size
    length = max(256, int(np.sqrt(n / 16)))
    chunks = -(-n // length)
    padded = np.zeros(chunks * length, dtype=np.uint8)
    padded[chunks * length - n :] = data
    columns = np.ascontiguousarray(padded.reshape(chunks, length).T)
    table = _table()
    state = np.zeros(chunks, dtype=np.uint32)
    low = np.empty(chunks, dtype=np.uint8)
    for column in columns:
        np.bitwise_xor(state.astype(np.uint8), column, out=low)
        state >>= np.uint32(8)
        state ^= table[low]
    operator = _shift_operator(length)
    while state.size > 1:
        if state.size % 2:
            state = np.concatenate([np.zeros(1, dtype=np.uint32), state])
        state = _apply(operator, state[0::2]) ^ state[1::2]
        operator = _apply(operator, operator)
    return int(state[0])


def crc32c(data: bytes | bytearray | memoryview | np.ndarray, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) of ``data``, extending a previous ``crc`` like TF's ``crc32c::Extend``.

    Pure numpy: ~5-10 ms per MB on one core (tens of MB in well under a second); inputs under
    4 KiB use a plain Python loop.
    """
    array = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    array = array.reshape(-1).view(np.uint8)
    start = crc ^ 0xFFFFFFFF
    if array.size < 4096:
        return _raw_update_py(start, array.tobytes()) ^ 0xFFFFFFFF
    from_zero = _raw_update_np(array)
    from_start = int(_apply(_shift_operator(array.size), np.array([start], dtype=np.uint32))[0])
    return (from_start ^ from_zero) ^ 0xFFFFFFFF


def mask_crc(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def unmask_crc(masked: int) -> int:
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# ------------------------------------------------------------------------------------- SSTable


def _block_handle(buf: memoryview, pos: int, what: str) -> tuple[int, int, int]:
    offset, pos = pw.read_varint(buf, pos, what)
    size, pos = pw.read_varint(buf, pos, what)
    return offset, size, pos


def _read_block(data: memoryview, offset: int, size: int, what: str, verify: bool) -> memoryview:
    if offset + size + BLOCK_TRAILER_SIZE > len(data) - FOOTER_SIZE:
        raise CorruptFileError(f"{what}: block [{offset}, +{size}) runs past the end of the table")
    contents = data[offset : offset + size]
    kind = data[offset + size]
    if kind != 0:
        names = {1: "snappy", 2: "zlib", 3: "zstd"}
        raise UnsupportedError(
            f"{what}: compressed table block (type {kind} {names.get(kind, '?')}); TensorFlow "
            "writes uncompressed checkpoint indexes"
        )
    if verify:
        (stored,) = struct.unpack_from("<I", data, offset + size + 1)
        actual = crc32c(data[offset : offset + size + 1])
        if unmask_crc(stored) != actual:
            raise CorruptFileError(f"{what}: table block at {offset} fails its crc32c check")
    return contents


def _block_entries(block: memoryview, what: str) -> list[tuple[bytes, memoryview]]:
    if len(block) < 4:
        raise CorruptFileError(f"{what}: table block shorter than its restart count")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise CorruptFileError(f"{what}: table block declares {num_restarts} restarts")
    entries: list[tuple[bytes, memoryview]] = []
    key = b""
    pos = 0
    while pos < limit:
        shared, pos = pw.read_varint(block, pos, what)
        non_shared, pos = pw.read_varint(block, pos, what)
        value_len, pos = pw.read_varint(block, pos, what)
        if shared > len(key) or non_shared + value_len > limit - pos:
            raise CorruptFileError(f"{what}: malformed table entry at offset {pos}")
        key = key[:shared] + bytes(block[pos : pos + non_shared])
        pos += non_shared
        entries.append((key, block[pos : pos + value_len]))
        pos += value_len
    if pos != limit:
        raise CorruptFileError(f"{what}: table entries overrun the restart array")
    return entries


def read_table(data: bytes, what: str, verify: bool = True) -> list[tuple[bytes, memoryview]]:
    """All (key, value) pairs of an uncompressed LevelDB-format SSTable, in stored order."""
    view = memoryview(data)
    if len(view) < FOOTER_SIZE:
        raise CorruptFileError(f"{what}: too short for an SSTable footer ({len(view)} bytes)")
    (magic,) = struct.unpack_from("<Q", view, len(view) - 8)
    if magic != TABLE_MAGIC:
        raise CorruptFileError(f"{what}: bad SSTable magic 0x{magic:016x}")
    footer = view[len(view) - FOOTER_SIZE :]
    _, _, pos = _block_handle(footer, 0, what)  # metaindex: TF writes an empty one
    index_offset, index_size, _ = _block_handle(footer, pos, what)
    index = _read_block(view, index_offset, index_size, what, verify)
    entries: list[tuple[bytes, memoryview]] = []
    # Data blocks must be disjoint and in file order, so a crafted index cannot make us parse the
    # same bytes over and over (quadratic work from a small file).
    next_free = 0
    for _, handle in _block_entries(index, what):
        offset, size, end = _block_handle(handle, 0, what)
        if end != len(handle) or offset < next_free or offset + size > index_offset:
            raise CorruptFileError(f"{what}: malformed or overlapping index block handle")
        next_free = offset + size + BLOCK_TRAILER_SIZE
        entries.extend(_block_entries(_read_block(view, offset, size, what, verify), what))
    keys = [k for k, _ in entries]
    if any(a >= b for a, b in itertools.pairwise(keys)):
        raise CorruptFileError(f"{what}: table keys are not strictly increasing")
    return entries


# ---------------------------------------------------------------------------------- the bundle


@dataclass(frozen=True)
class BundleHeader:
    num_shards: int
    endianness: int
    producer: int
    min_consumer: int


@dataclass(frozen=True)
class BundleEntry:
    key: str
    dtype_enum: int
    #: ``float32``, ``bfloat16``, ``string``... (``dtype:<n>`` for types we cannot read)
    dtype: str
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int | None
    #: Partitioned variable (``slices`` set): readable only by reassembling slices; refused.
    sliced: bool = False

    @property
    def num_elements(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


def _parse_header(value: memoryview, what: str) -> BundleHeader:
    num_shards, endianness, producer, min_consumer = 0, 0, 0, 0
    bad: list[int] = []
    for fnum, wire, val in pw.iter_fields(value, what):
        if fnum == 1:
            num_shards = pw.to_signed64(pw.expect_int(fnum, wire, val, what))
        elif fnum == 2:
            endianness = pw.expect_int(fnum, wire, val, what)
        elif fnum == 3:
            for vf, vw, vv in pw.iter_fields(pw.expect_bytes(fnum, wire, val, what), what):
                if vf == 1:
                    producer = pw.to_signed64(pw.expect_int(vf, vw, vv, what))
                elif vf == 2:
                    min_consumer = pw.to_signed64(pw.expect_int(vf, vw, vv, what))
                elif vf == 3:
                    if vw == pw.LENGTH:
                        bad.extend(pw.packed_varints(pw.expect_bytes(vf, vw, vv, what), what))
                    else:
                        bad.append(pw.expect_int(vf, vw, vv, what))
    if endianness == 1:
        raise UnsupportedError(f"{what}: big-endian TensorBundle")
    if endianness != 0:
        raise CorruptFileError(f"{what}: unknown endianness {endianness}")
    if min_consumer > 1 or 1 in bad:
        raise UnsupportedError(f"{what}: bundle format needs a newer reader (min_consumer={min_consumer})")
    if not 0 <= num_shards <= MAX_SHARDS:
        raise CorruptFileError(f"{what}: implausible num_shards={num_shards}")
    return BundleHeader(num_shards, endianness, producer, min_consumer)


def _parse_shape(value: memoryview, what: str) -> tuple[int, ...]:
    dims: list[int] = []
    for fnum, wire, val in pw.iter_fields(value, what):
        if fnum == 2:
            size = 0
            for df, dw, dv in pw.iter_fields(pw.expect_bytes(fnum, wire, val, what), what):
                if df == 1:
                    size = pw.to_signed64(pw.expect_int(df, dw, dv, what))
            if size < 0:
                raise CorruptFileError(f"{what}: negative dimension {size}")
            dims.append(size)
            if len(dims) > MAX_RANK:
                raise CorruptFileError(f"{what}: rank over {MAX_RANK}")
        elif fnum == 3 and pw.expect_int(fnum, wire, val, what):
            raise CorruptFileError(f"{what}: stored tensor has unknown rank")
    return tuple(dims)


def _parse_entry(key: str, value: memoryview, what: str) -> BundleEntry:
    dtype_enum, shape, shard_id, offset, size = 0, (), 0, 0, 0
    crc: int | None = None
    sliced = False
    where = f"{what}: entry {key!r}"
    for fnum, wire, val in pw.iter_fields(value, where):
        if fnum == 1:
            dtype_enum = pw.expect_int(fnum, wire, val, where)
        elif fnum == 2:
            shape = _parse_shape(pw.expect_bytes(fnum, wire, val, where), where)
        elif fnum == 3:
            shard_id = pw.to_signed64(pw.expect_int(fnum, wire, val, where))
        elif fnum == 4:
            offset = pw.to_signed64(pw.expect_int(fnum, wire, val, where))
        elif fnum == 5:
            size = pw.to_signed64(pw.expect_int(fnum, wire, val, where))
        elif fnum == 6:
            crc = pw.expect_int(fnum, wire, val, where) & 0xFFFFFFFF
        elif fnum == 7:
            sliced = True
    if shard_id < 0 or offset < 0 or size < 0:
        raise CorruptFileError(f"{where}: negative shard/offset/size")
    if dtype_enum in DTYPES:
        name = DTYPES[dtype_enum][0]
    else:
        name = _DTYPE_NAMES.get(dtype_enum, f"dtype:{dtype_enum}")
    return BundleEntry(key, dtype_enum, name, shape, shard_id, offset, size, crc, sliced)


def data_file_name(prefix: Path, shard: int, num_shards: int) -> Path:
    return prefix.with_name(f"{prefix.name}.data-{shard:05d}-of-{num_shards:05d}")


def has_table_magic(path: Path) -> bool:
    """True when ``path`` is a file ending with the SSTable footer magic."""
    try:
        if not path.is_file() or path.stat().st_size < FOOTER_SIZE:
            return False
        with open(path, "rb") as handle:
            handle.seek(-8, os.SEEK_END)
            return struct.unpack("<Q", handle.read(8))[0] == TABLE_MAGIC
    except OSError:
        return False


def looks_like_v1(prefix: Path) -> bool:
    """A V1 (``tf.train.Saver`` V1) checkpoint: no ``.index``, and an SSTable at ``<prefix>`` or
    ``<prefix>-?????-of-?????`` (V1 files are SSTables of ``SavedTensorSlices``)."""
    if prefix.with_name(prefix.name + ".index").exists():
        return False
    if has_table_magic(prefix):
        return True
    parent = prefix.parent
    if not prefix.name or not parent.is_dir():
        return False
    pattern = re.compile(re.escape(prefix.name) + r"-\d{5}-of-\d{5}$")
    return any(pattern.match(p.name) and has_table_magic(p) for p in parent.iterdir())


@dataclass
class TensorBundle:
    """An opened V2 checkpoint. Tensors are read lazily by :meth:`read`."""

    prefix: Path
    header: BundleHeader
    entries: dict[str, BundleEntry]
    verify_crc: bool = True
    _data_sizes: dict[int, int] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, prefix: str | os.PathLike[str], verify_crc: bool = True) -> TensorBundle:
        prefix = Path(prefix)
        if prefix.name.endswith(".index"):
            prefix = prefix.with_name(prefix.name[: -len(".index")])
        index_path = prefix.with_name(prefix.name + ".index")
        if not index_path.is_file():
            if looks_like_v1(prefix):
                raise UnsupportedError(f"{prefix}: {V1_MESSAGE}")
            raise NotFoundError(f"{index_path}: no checkpoint index")
        what = str(index_path)
        size = index_path.stat().st_size
        if size > MAX_INDEX_BYTES:
            raise UnsupportedError(f"{what}: index of {size} bytes is implausibly large")
        table = read_table(index_path.read_bytes(), what, verify_crc)
        if not table or table[0][0] != b"":
            raise CorruptFileError(f"{what}: no BundleHeaderProto (first key must be empty)")
        header = _parse_header(table[0][1], what)
        entries: dict[str, BundleEntry] = {}
        for raw_key, value in table[1:]:
            try:
                key = raw_key.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CorruptFileError(f"{what}: checkpoint key is not UTF-8") from exc
            entry = _parse_entry(key, value, what)
            if entry.shard_id >= max(header.num_shards, 1) or (header.num_shards == 0 and entry.size):
                raise CorruptFileError(f"{what}: entry {key!r} in shard {entry.shard_id} of {header.num_shards}")
            entries[key] = entry
        bundle = cls(prefix, header, entries, verify_crc)
        for shard in sorted({e.shard_id for e in entries.values() if e.size}):
            path = bundle.data_path(shard)
            if not path.is_file():
                raise CorruptFileError(f"{path}: data shard missing")
            bundle._data_sizes[shard] = path.stat().st_size
        return bundle

    def keys(self) -> list[str]:
        return list(self.entries)

    def entry(self, key: str) -> BundleEntry:
        try:
            return self.entries[key]
        except KeyError:
            raise KeyError(f"{self.prefix}: no tensor {key!r}") from None

    def data_path(self, shard: int) -> Path:
        return data_file_name(self.prefix, shard, self.header.num_shards)

    def _read_bytes(self, entry: BundleEntry) -> bytes:
        if entry.size == 0:
            return b""
        available = self._data_sizes.get(entry.shard_id)
        path = self.data_path(entry.shard_id)
        if available is None or entry.offset + entry.size > available:
            raise CorruptFileError(
                f"{path}: tensor {entry.key!r} [{entry.offset}, +{entry.size}) lies outside the "
                f"{available}-byte data file"
            )
        with open(path, "rb") as handle:
            handle.seek(entry.offset)
            data = handle.read(entry.size)
        if len(data) != entry.size:
            raise CorruptFileError(f"{path}: short read for {entry.key!r}")
        return data

    def _check(self, entry: BundleEntry) -> str | None:
        where = f"{self.prefix}: tensor {entry.key!r}"
        if entry.sliced:
            raise UnsupportedError(f"{where}: partitioned (sliced) variable")
        if entry.dtype_enum not in DTYPES:
            raise UnsupportedError(f"{where}: dtype {entry.dtype} cannot be read")
        np_dtype = DTYPES[entry.dtype_enum][1]
        if np_dtype is not None:
            expected = entry.num_elements * np.dtype(np_dtype).itemsize
            if expected != entry.size:
                raise CorruptFileError(
                    f"{where}: {entry.dtype}{list(entry.shape)} needs {expected} bytes, entry says {entry.size}"
                )
        elif entry.num_elements > entry.size:
            raise CorruptFileError(f"{where}: {entry.num_elements} strings in {entry.size} bytes")
        return np_dtype

    def _verify(self, entry: BundleEntry, data: bytes | memoryview) -> None:
        if not self.verify_crc or entry.crc32c is None:
            return
        if crc32c(data) != unmask_crc(entry.crc32c):
            raise CorruptFileError(f"{self.prefix}: tensor {entry.key!r} fails its crc32c check")

    def read_with_raw(self, key: str) -> tuple[np.ndarray, np.ndarray | None]:
        """``(values, raw)``: ``raw`` is the stored uint16 words for bfloat16 (values are float32)."""
        entry = self.entry(key)
        np_dtype = self._check(entry)
        if np_dtype is None:
            strings = self.read_strings(key)
            array = np.empty(len(strings), dtype=object)
            array[:] = strings
            return array.reshape(entry.shape), None
        data = self._read_bytes(entry)
        self._verify(entry, data)
        stored = np.frombuffer(data, dtype=np_dtype).reshape(entry.shape)
        if entry.dtype_enum == DT_BFLOAT16:
            values = (stored.astype(np.uint32) << np.uint32(16)).view(np.float32)
            return values, stored
        return stored.astype(stored.dtype.newbyteorder("="), copy=False), None

    def read(self, key: str) -> np.ndarray:
        """The tensor's values (bfloat16 decoded to float32; strings as an object array of bytes)."""
        return self.read_with_raw(key)[0]

    def read_strings(self, key: str) -> list[bytes]:
        """A DT_STRING tensor: ``[varint64 len]*n [masked crc32c of lengths] [bytes]``."""
        entry = self.entry(key)
        where = f"{self.prefix}: tensor {entry.key!r}"
        if entry.dtype_enum != DT_STRING:
            raise UnsupportedError(f"{where}: not a string tensor ({entry.dtype})")
        self._check(entry)
        count = entry.num_elements
        data = memoryview(self._read_bytes(entry))
        if not data:
            return [b""] * count
        lengths: list[int] = []
        length_crc_input = bytearray()
        pos = 0
        for _ in range(count):
            length, pos = pw.read_varint(data, pos, where)
            lengths.append(length)
            length_crc_input += struct.pack("<I" if length <= 0xFFFFFFFF else "<Q", length)
        if len(data) - pos < 4 or sum(lengths) != len(data) - pos - 4:
            raise CorruptFileError(f"{where}: string lengths do not add up to the entry size")
        (length_checksum,) = struct.unpack_from("<I", data, pos)
        lengths_crc = crc32c(length_crc_input) if self.verify_crc else 0
        if self.verify_crc and unmask_crc(length_checksum) != lengths_crc:
            raise CorruptFileError(f"{where}: string length checksum mismatch")
        pos += 4
        if self.verify_crc and entry.crc32c is not None:
            actual = crc32c(data[pos:], crc32c(bytes(data[pos - 4 : pos]), lengths_crc))
            if actual != unmask_crc(entry.crc32c):
                raise CorruptFileError(f"{where}: fails its crc32c check")
        out: list[bytes] = []
        for length in lengths:
            out.append(bytes(data[pos : pos + length]))
            pos += length
        return out
