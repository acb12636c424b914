"""LevelDB-format SSTables, as TensorFlow writes checkpoint ``.index`` files.

A 48-byte footer (metaindex and index block handles, magic ``0xdb4775248b80fb57``), an index block
mapping separator keys to data-block handles, and data blocks of prefix-compressed entries with a
restart array, each block followed by a 1-byte compression type (TensorFlow writes 0 = none) and a
masked crc32c. Every offset is checked before use; blocks must be disjoint and in order.
"""

from __future__ import annotations

import itertools
import struct

from ...errors import CorruptFileError, UnsupportedError
from . import protowire as pw
from .crc32c import crc32c, unmask_crc

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5


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
