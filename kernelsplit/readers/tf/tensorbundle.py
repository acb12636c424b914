"""Read a TensorFlow V2 checkpoint (TensorBundle) with numpy only.

Layout (``tensorflow/core/util/tensor_bundle/tensor_bundle.cc``; docs/formats.md, "TF checkpoints"):

* ``<prefix>.index`` is an SSTable (``sstable.py``);
* Key ``""`` holds ``BundleHeaderProto``; every other key a ``BundleEntryProto``.
* ``<prefix>.data-<shard:05d>-of-<num:05d>`` holds raw little-endian C-order tensor bytes.

Everything read from the files is treated as hostile: offsets and sizes are checked against the
real file sizes before any read or allocation, and every inconsistency raises
:class:`CorruptFileError`; layouts we could only guess at raise :class:`UnsupportedError`.

CRC32C: block checksums of the ``.index`` and every tensor's checksum are verified (``verify_crc``,
on by default; ``crc32c.py``).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import CorruptFileError, UnsupportedError
from ...tensordata import Scratch, Window, decode, plan_windows
from ..base import allocated_bytes, charge
from ..filesource import FileSource, read_window
from . import protowire as pw
from .crc32c import crc32c, unmask_crc
from .prefix import require_v2_index
from .sstable import read_table

#: An ``.index`` larger than this is not something TensorFlow wrote for a Keras model.
MAX_INDEX_BYTES = 1 << 30
MAX_RANK = 254
MAX_SHARDS = 1 << 20

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
    dtype_enum, shard_id, offset, size = 0, 0, 0, 0
    shape: tuple[int, ...] = ()
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


class BundleData:
    """One numeric tensor in a data shard, read in windows on demand (``tensordata.TensorData``).

    The shard is little-endian C order; bfloat16 is read as its ``uint16`` words.
    """

    def __init__(self, source: FileSource, entry: BundleEntry, words: np.dtype, where: str) -> None:
        self.source = source
        self.where = where
        self._offset = entry.offset
        self._shape = entry.shape
        self._words = words

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._words

    def windows(self, budget: int) -> list[Window]:
        return plan_windows(self._shape, self._words.itemsize, budget)

    def read(self, window: Window, scratch: Scratch | None = None) -> np.ndarray:
        try:
            return read_window(self.source, self._offset, self._shape, self._words, window, scratch)
        except OSError as exc:
            raise CorruptFileError(f"cannot read {self.where}: {exc}") from None


def data_file_name(prefix: Path, shard: int, num_shards: int) -> Path:
    return prefix.with_name(f"{prefix.name}.data-{shard:05d}-of-{num_shards:05d}")


@dataclass
class TensorBundle:
    """An opened V2 checkpoint. Tensors are read lazily by :meth:`read`."""

    prefix: Path
    header: BundleHeader
    entries: dict[str, BundleEntry]
    verify_crc: bool = True
    _data_sizes: dict[int, int] = field(default_factory=dict, repr=False)
    _sources: dict[int, FileSource] = field(default_factory=dict, repr=False)
    _lazy: dict[str, BundleData] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, prefix: str | os.PathLike[str], verify_crc: bool = True) -> TensorBundle:
        """Open the V2 checkpoint at ``prefix`` (resolve user input with ``prefix.resolve_checkpoint_prefix``)."""
        prefix = Path(prefix)
        index_path = require_v2_index(prefix)
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
            raise CorruptFileError(f"{self.prefix}: no tensor {key!r} in the checkpoint index") from None

    def data_path(self, shard: int) -> Path:
        return data_file_name(self.prefix, shard, self.header.num_shards)

    def _shard(self, entry: BundleEntry) -> Path:
        """The data shard holding ``entry``, after checking the entry lies inside it."""
        available = self._data_sizes.get(entry.shard_id)
        path = self.data_path(entry.shard_id)
        if available is None or entry.offset + entry.size > available:
            raise CorruptFileError(
                f"{path}: tensor {entry.key!r} [{entry.offset}, +{entry.size}) lies outside the "
                f"{available}-byte data file"
            )
        return path

    def _read_bytes(self, entry: BundleEntry) -> bytes:
        if entry.size == 0:
            return b""
        path = self._shard(entry)
        # The artifact's shape-bomb budget (readers/base.py): a sparse data file buys no memory.
        charge(entry.size, f"{path.name}:{entry.key}", lambda: allocated_bytes(path))
        with open(path, "rb") as handle:
            handle.seek(entry.offset)
            data = handle.read(entry.size)
        if len(data) != entry.size:
            raise CorruptFileError(f"{path}: short read for {entry.key!r}")
        return data

    def _source(self, entry: BundleEntry) -> FileSource:
        """The data shard holding ``entry``, after checking the entry lies inside it, as a source."""
        path = self._shard(entry)
        if entry.shard_id not in self._sources:
            self._sources[entry.shard_id] = FileSource(path, what=str(path))
        return self._sources[entry.shard_id]

    def data(self, key: str) -> BundleData | None:
        """A numeric tensor to be read on demand (None for strings): its checksum is verified now,
        reading it in pieces of at most 1 MiB, and it is read again when its numbers are needed."""
        if key in self._lazy:
            return self._lazy[key]
        entry = self.entry(key)
        np_dtype = self._check(entry)
        if np_dtype is None or not entry.size:  # strings, and empty tensors: read in memory
            return None
        source = self._source(entry)
        path = self.data_path(entry.shard_id)
        # The artifact's shape-bomb budget (readers/base.py): a sparse data file buys no reading time.
        charge(entry.size, f"{path.name}:{entry.key}", lambda: allocated_bytes(path))
        if self.verify_crc and entry.crc32c is not None:
            crc = 0
            piece = np.empty(min(entry.size, 1 << 20), dtype=np.uint8)
            for start in range(0, entry.size, piece.size):
                chunk = piece[: min(piece.size, entry.size - start)]
                source.pread(entry.offset + start, chunk)
                crc = crc32c(chunk, crc)
            if crc != unmask_crc(entry.crc32c):
                raise CorruptFileError(f"{self.prefix}: tensor {entry.key!r} fails its crc32c check")
        data = self._lazy[key] = BundleData(source, entry, np.dtype(np_dtype), f"{self.prefix}: tensor {entry.key!r}")
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
            return decode(stored, "bfloat16"), stored
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
