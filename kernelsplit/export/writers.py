"""File formats behind one interface: ``Writer.write(path, arrays)``.

Single-array formats (npy, csv, json) get exactly one array per file; container formats (npz,
safetensors) get a whole group. What each format stores for a dtype:

* npy / npz: the stored dtype; bfloat16 (which numpy lacks) as float32 holding exactly the same
  value (a bfloat16 is the top half of a float32), manifest ``file_dtype`` float32.
* safetensors: the stored dtype, bfloat16 natively as ``BF16`` words.
* csv / json: decimal text that reads back to the identical value. Every stored value (float16,
  bfloat16, float32, float64) is exactly a float64, and ``repr(float)`` is the shortest decimal that
  parses back to that float64, so any correct parser followed by a cast to the stored dtype gives
  the stored bits. NaN and infinities cannot be kept exactly (csv/json have no NaN payloads; json
  has no NaN at all), so those arrays are refused for csv/json.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np

from ..errors import ExportRefusedError
from .base import ExportedArray


class Writer:
    name: ClassVar[str]
    extension: ClassVar[str]
    #: True when one file holds a whole group; False when each array gets its own file.
    container: ClassVar[bool]

    def file_dtype(self, exported: ExportedArray) -> str:
        """Element type in the file (bfloat16 becomes float32 where the format has no bfloat16)."""
        return "float32" if exported.dtype == "bfloat16" else exported.dtype

    def check(self, exported: ExportedArray) -> None:
        """Raise ExportRefusedError if this format cannot hold the array exactly."""

    def write(self, path: Path, arrays: list[ExportedArray]) -> None:
        raise NotImplementedError


def _values(exported: ExportedArray) -> np.ndarray:
    values = exported.values()
    return values.astype(values.dtype.newbyteorder("<"), copy=False)


class NpyWriter(Writer):
    name, extension, container = "npy", ".npy", False

    def write(self, path: Path, arrays: list[ExportedArray]) -> None:
        (exported,) = arrays
        with path.open("wb") as handle:
            np.save(handle, _values(exported), allow_pickle=False)


class NpzWriter(Writer):
    name, extension, container = "npz", ".npz", True

    def write(self, path: Path, arrays: list[ExportedArray]) -> None:
        with path.open("wb") as handle:
            named: dict[str, Any] = {a.name: _values(a) for a in arrays}
            np.savez(handle, **named)


class _TextWriter(Writer):
    container = False

    def check(self, exported: ExportedArray) -> None:
        values = exported.values()
        if not np.all(np.isfinite(values)):
            bad = int(np.count_nonzero(~np.isfinite(values)))
            raise ExportRefusedError(
                f"{exported.layer} {exported.name}: {bad} NaN/Inf value(s) cannot be written exactly as "
                f"{self.name}; use --format npy, npz or safetensors"
            )


def _decimal(value: float) -> str:
    return repr(float(value))


class CsvWriter(_TextWriter):
    """One matrix per file, comma-separated, no header. 1-D arrays are one row; arrays of rank > 2
    (ConvLSTM kernels, ONNX tensors) are written as ``reshape(-1, shape[-1])`` and the manifest's
    ``shape`` restores them."""

    name, extension = "csv", ".csv"

    def write(self, path: Path, arrays: list[ExportedArray]) -> None:
        (exported,) = arrays
        values = np.asarray(exported.values(), dtype=np.float64)
        matrix = values.reshape(1, -1) if values.ndim <= 1 else values.reshape(-1, values.shape[-1])
        with path.open("w", encoding="ascii", newline="\n") as handle:
            for row in matrix:
                handle.write(",".join(_decimal(v) for v in row) + "\n")


class JsonWriter(_TextWriter):
    """Nested lists in the array's shape (a bare JSON array; dtype and shape are in the manifest)."""

    name, extension = "json", ".json"

    def write(self, path: Path, arrays: list[ExportedArray]) -> None:
        (exported,) = arrays
        nested = np.asarray(exported.values(), dtype=np.float64).tolist()
        path.write_text(json.dumps(nested, allow_nan=False, separators=(",", ":")) + "\n", encoding="ascii")


#: safetensors dtype codes (https://github.com/huggingface/safetensors, "Format").
_SAFETENSORS_DTYPES = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16"}


class SafetensorsWriter(Writer):
    """``u64 little-endian header length N`` + ``N`` bytes of JSON header + the raw tensor bytes.

    The header maps each name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets into
    the byte buffer after the header) and may hold ``__metadata__`` (str -> str). Tensors are C
    order, little-endian, packed without gaps in header order; the header is padded with spaces
    to a multiple of 8 bytes so the buffer is aligned.
    """

    name, extension, container = "safetensors", ".safetensors", True

    def file_dtype(self, exported: ExportedArray) -> str:
        return exported.dtype

    def check(self, exported: ExportedArray) -> None:
        if exported.dtype not in _SAFETENSORS_DTYPES:
            raise ExportRefusedError(
                f"{exported.layer} {exported.name}: dtype {exported.dtype} has no safetensors code"
            )

    def write(self, path: Path, arrays: list[ExportedArray]) -> None:
        with path.open("wb") as handle:
            write_safetensors(handle, {a.name: (a.array, a.dtype) for a in arrays}, metadata={"format": "kernelsplit"})


def write_safetensors(
    handle: BinaryIO, tensors: dict[str, tuple[np.ndarray, str]], metadata: dict[str, str] | None = None
) -> None:
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    buffer = io.BytesIO()
    for name in sorted(tensors):
        stored, dtype = tensors[name]
        contiguous = np.ascontiguousarray(stored)
        data = contiguous.astype(contiguous.dtype.newbyteorder("<"), copy=False).tobytes()
        begin = buffer.tell()
        buffer.write(data)
        header[name] = {
            "dtype": _SAFETENSORS_DTYPES[dtype],
            "shape": [int(n) for n in stored.shape],
            "data_offsets": [begin, buffer.tell()],
        }
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    handle.write(struct.pack("<Q", len(encoded)))
    handle.write(encoded)
    handle.write(buffer.getvalue())


WRITERS: dict[str, Writer] = {
    w.name: w for w in (NpyWriter(), NpzWriter(), CsvWriter(), JsonWriter(), SafetensorsWriter())
}
