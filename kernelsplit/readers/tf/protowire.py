"""A minimal, defensive protobuf wire-format decoder (no ``protobuf`` package).

Only what the SavedModel/checkpoint readers need: iterate the fields of one message, lazily, as
``(field_number, wire_type, value)`` where ``value`` is an ``int`` for varint/fixed fields and a
zero-copy ``memoryview`` for length-delimited ones. Nested messages are decoded only when the caller
asks, so multi-megabyte ``saved_model.pb`` files are walked without materialising ``graph_def``.
Every malformed input raises :class:`~kernelsplit.errors.CorruptFileError`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ...errors import CorruptFileError

VARINT = 0
FIXED64 = 1
LENGTH = 2
START_GROUP = 3
END_GROUP = 4
FIXED32 = 5

Buffer = bytes | bytearray | memoryview
Value = int | memoryview

_MAX_FIELD_NUMBER = (1 << 29) - 1


def read_varint(buf: Buffer, pos: int, what: str = "protobuf") -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; return ``(value, new_pos)``. At most 10 bytes (64 bits)."""
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise CorruptFileError(f"{what}: truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift >= 70:
            raise CorruptFileError(f"{what}: varint longer than 10 bytes")
    if result >> 64:
        raise CorruptFileError(f"{what}: varint overflows 64 bits")
    return result, pos


def to_signed64(value: int) -> int:
    """Interpret a decoded varint as a two's-complement int64 (proto ``int64``/``int32`` fields)."""
    return value - (1 << 64) if value >> 63 else value


def iter_fields(buf: Buffer, what: str = "protobuf") -> Iterator[tuple[int, int, Value]]:
    """Yield ``(field_number, wire_type, value)`` for each field of one serialized message."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    pos = 0
    end = len(view)
    while pos < end:
        tag, pos = read_varint(view, pos, what)
        field = tag >> 3
        wire = tag & 7
        if field == 0 or field > _MAX_FIELD_NUMBER:
            raise CorruptFileError(f"{what}: invalid field number {field}")
        if wire == VARINT:
            value, pos = read_varint(view, pos, what)
            yield field, wire, value
        elif wire == LENGTH:
            length, pos = read_varint(view, pos, what)
            if length > end - pos:
                raise CorruptFileError(f"{what}: field {field} declares {length} bytes, only {end - pos} left")
            yield field, wire, view[pos : pos + length]
            pos += length
        elif wire == FIXED32:
            if end - pos < 4:
                raise CorruptFileError(f"{what}: truncated fixed32 field {field}")
            yield field, wire, struct.unpack_from("<I", view, pos)[0]
            pos += 4
        elif wire == FIXED64:
            if end - pos < 8:
                raise CorruptFileError(f"{what}: truncated fixed64 field {field}")
            yield field, wire, struct.unpack_from("<Q", view, pos)[0]
            pos += 8
        else:
            # Groups (3/4) are proto2-only and never written by TensorFlow/Keras; 6/7 are invalid.
            raise CorruptFileError(f"{what}: unsupported wire type {wire} (field {field})")


def expect_int(field: int, wire: int, value: Value, what: str) -> int:
    if wire not in (VARINT, FIXED32, FIXED64) or not isinstance(value, int):
        raise CorruptFileError(f"{what}: field {field} should be an integer (wire type {wire})")
    return value


def expect_bytes(field: int, wire: int, value: Value, what: str) -> memoryview:
    if wire != LENGTH or not isinstance(value, memoryview):
        raise CorruptFileError(f"{what}: field {field} should be length-delimited (wire type {wire})")
    return value


def decode_str(value: memoryview, what: str) -> str:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(f"{what}: string field is not valid UTF-8") from exc


def packed_varints(value: memoryview, what: str) -> list[int]:
    """Decode a packed ``repeated int`` field."""
    out: list[int] = []
    pos = 0
    while pos < len(value):
        item, pos = read_varint(value, pos, what)
        out.append(item)
    return out
