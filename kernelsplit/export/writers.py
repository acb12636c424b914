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

import hashlib
import io
import json
import re
import struct
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np

from .._version import __version__
from ..errors import ExportRefusedError
from ..maths import resolve
from .base import ExportedArray, WriteContext


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

    def key(self, exported: ExportedArray, group: str) -> str:
        """The array's name inside a container file (the manifest's ``key``)."""
        return exported.name

    def write(self, path: Path, arrays: list[ExportedArray], context: WriteContext | None = None) -> None:
        raise NotImplementedError


def _values(exported: ExportedArray) -> np.ndarray:
    values = exported.values()
    return values.astype(values.dtype.newbyteorder("<"), copy=False)


class NpyWriter(Writer):
    name, extension, container = "npy", ".npy", False

    def write(self, path: Path, arrays: list[ExportedArray], context: WriteContext | None = None) -> None:
        (exported,) = arrays
        with path.open("wb") as handle:
            np.save(handle, _values(exported), allow_pickle=False)


class NpzWriter(Writer):
    name, extension, container = "npz", ".npz", True

    def write(self, path: Path, arrays: list[ExportedArray], context: WriteContext | None = None) -> None:
        with path.open("wb") as handle:
            named: dict[str, Any] = {a.name: _values(a) for a in arrays}
            np.savez(handle, **named)


def _refuse_non_finite(exported: ExportedArray, fmt: str, hint: str) -> None:
    values = exported.values()
    if not np.all(np.isfinite(values)):
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise ExportRefusedError(
            f"{exported.layer} {exported.name}: {bad} NaN/Inf value(s) cannot be written exactly as {fmt}; {hint}"
        )


class _TextWriter(Writer):
    container = False

    def check(self, exported: ExportedArray) -> None:
        _refuse_non_finite(exported, self.name, "use --format npy, npz or safetensors")


def _decimal(value: float) -> str:
    return repr(float(value))


class CsvWriter(_TextWriter):
    """One matrix per file, comma-separated, no header. 1-D arrays are one row; arrays of rank > 2
    (ConvLSTM kernels, ONNX tensors) are written as ``reshape(-1, shape[-1])`` and the manifest's
    ``shape`` restores them."""

    name, extension = "csv", ".csv"

    def write(self, path: Path, arrays: list[ExportedArray], context: WriteContext | None = None) -> None:
        (exported,) = arrays
        values = np.asarray(exported.values(), dtype=np.float64)
        matrix = values.reshape(1, -1) if values.ndim <= 1 else values.reshape(-1, values.shape[-1])
        with path.open("w", encoding="ascii", newline="\n") as handle:
            for row in matrix:
                handle.write(",".join(_decimal(v) for v in row) + "\n")


class JsonWriter(_TextWriter):
    """Nested lists in the array's shape (a bare JSON array; dtype and shape are in the manifest)."""

    name, extension = "json", ".json"

    def write(self, path: Path, arrays: list[ExportedArray], context: WriteContext | None = None) -> None:
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

    def write(self, path: Path, arrays: list[ExportedArray], context: WriteContext | None = None) -> None:
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


_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]+")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def c_identifier(*parts: str) -> str:
    """A C identifier from names read off a file: ``my-lstm/1``, ``kernel.f`` -> ``my_lstm_1_kernel_f``.

    Only ``[A-Za-z0-9_]`` survive; a leading digit or underscore gets a ``ks_`` prefix (names that
    start with an underscore are reserved in C), so no name can be a keyword or break the syntax.
    """
    name = "_".join(_NOT_IDENTIFIER.sub("_", part).strip("_") for part in parts if part)
    name = re.sub(r"_+", "_", name)
    return name if name and (name[0].isalpha()) else f"ks_{name}"


#: kernelsplit's own formula symbols, as a C programmer writes them (the rest is escaped).
_ASCII_MATHS = str.maketrans({"·": "*", "√": "sqrt", "α": "alpha", "⊙": "(*)", "×": "x", "…": "...", "−": "-"})


def c_comment_text(text: object) -> str:
    """Text safe inside a C block comment: printable ASCII only (kernelsplit's formula symbols
    spelled out, others as ``\\u{...}``), no ``*/`` or ``/*``, no trigraph ``??``; a hostile name
    cannot end the comment or inject code."""
    value = _UNPRINTABLE.sub(lambda m: f"\\u{{{ord(m.group()):x}}}", str(text).translate(_ASCII_MATHS))
    while "*/" in value or "/*" in value or "??" in value:
        value = value.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    return value


class CWriter(Writer):
    """A C header per group: each array a ``static const`` array (``float``, or ``double`` for float64;
    float16 and bfloat16 as the identical float values), row-major, with its dimensions as macros
    and its provenance and digest in the header's comment. Values are written as the shortest
    decimal that parses back to the identical float64, which a C compiler then rounds exactly to
    the stored float (every stored value is a float). NaN and infinities are refused."""

    name, extension, container = "c", ".h", True

    def file_dtype(self, exported: ExportedArray) -> str:
        return "float64" if exported.dtype == "float64" else "float32"

    def check(self, exported: ExportedArray) -> None:
        _refuse_non_finite(exported, "C literals", "use --format npy, npz or safetensors")

    def key(self, exported: ExportedArray, group: str) -> str:
        return c_identifier(group, exported.name)

    def write(self, path: Path, arrays: list[ExportedArray], context: WriteContext | None = None) -> None:
        group = context.group.name if context else (arrays[0].layer if arrays else "arrays")
        names = [self.key(a, group) for a in arrays]
        if len(set(names)) != len(names):
            raise ExportRefusedError(f"{group}: its arrays' names collide as C identifiers ({', '.join(names)})")
        tag = hashlib.sha256(group.encode("utf-8", "surrogatepass")).hexdigest()[:8].upper()
        guard = f"KERNELSPLIT_{c_identifier(group).upper()}_{tag}_H"  # distinct even when two names sanitize alike
        lines = [
            "/*",
            *(f" * {c_comment_text(line)}" if line else " *" for line in _provenance(arrays, names, context)),
        ]
        lines += [" */", f"#ifndef {guard}", f"#define {guard}", ""]
        if context is not None:
            macro = c_identifier(group).upper()
            lines.append(f"#define {macro}_UNITS {context.group.units}")
            input_dim = context.group.layers[0].input_dim
            if input_dim is not None and context.group.cell != "conv_lstm":
                lines.append(f"#define {macro}_INPUT_DIM {input_dim}")
            lines.append("")
        for exported, name in zip(arrays, names, strict=True):
            lines += _c_array(exported, name)
        lines += [f"#endif /* {guard} */", ""]
        path.write_text("\n".join(lines), encoding="ascii")


def _provenance(arrays: list[ExportedArray], names: list[str], context: WriteContext | None) -> list[str]:
    lines = [f"Generated by kernelsplit {__version__} (kernelsplit export --format c). Do not edit.", ""]
    if context is not None:
        lines.append(f"source: {context.source_name} (sha256 {context.source_sha256})")
        group = context.group
        lines.append(f"group: {group.name}: {group.cell}, {group.units} units, layout {context.layout}")
        for layer in group.layers:
            lines.append(f"layer {layer.name}: {layer.class_name}{f', {layer.direction}' if layer.direction else ''}")
            keys = ["activation", "go_backwards"]
            keys += [] if layer.cell == "simple_rnn" else ["recurrent_activation"]
            keys += ["reset_after"] if layer.cell == "gru" else []
            for key in keys:
                fact = getattr(layer.maths, key)
                value = f"{fact.value} ({fact.origin})" if fact.known else "unknown (not stored in the file)"
                writer = layer.maths.writer
                found = resolve(fact.value, writer) if isinstance(fact.value, str) and writer is not None else None
                formula = f" = {found.formula}" if found is not None and found.formula != fact.value else ""
                lines.append(f"  {key} {value}{formula}")
        for note in group.notes:
            lines.append(f"note: {note}")
        lines.append("")
    lines.append("Every array is row-major (C order), in the layout the manifest states. The keras layout keeps")
    lines.append("Keras's row vectors: a gate's input term is out[j] = sum_i x[i] * kernel[i][j].")
    lines.append("")
    for exported, name in zip(arrays, names, strict=True):
        what = (
            f"{exported.part}[{exported.gate}]"
            if exported.gate
            else f"{exported.part}, gates {' '.join(exported.gate_order or ())}"
        )
        where = f" at {exported.source}" if exported.source else ""
        shape = "x".join(str(n) for n in exported.shape) or "scalar"
        lines.append(f"{name}: {what} of {exported.layer}, stored {exported.dtype}{where}, shape {shape}")
        lines.append(
            f"  sha256 {exported.sha256}{' (zero-filled: not stored by Keras)' if exported.zero_filled else ''}"
        )
    return lines


def _c_number(value: float, suffix: str) -> str:
    return repr(float(value)) + suffix  # always has "." or "e" (NaN and infinities are refused)


def _c_array(exported: ExportedArray, name: str) -> list[str]:
    values = np.asarray(exported.values(), dtype=np.float64)
    ctype, suffix = ("double", "") if exported.dtype == "float64" else ("float", "f")
    macro = name.upper()
    lines = [f"#define {macro}_DIM{axis} {size}" for axis, size in enumerate(values.shape)]
    lines.append(f"#define {macro}_SIZE {values.size}")
    dims = "".join(f"[{macro}_DIM{axis}]" for axis in range(values.ndim))

    def nested(block: np.ndarray, depth: int) -> str:
        if block.ndim <= 1:
            return "{" + ", ".join(_c_number(v, suffix) for v in block.reshape(-1)) + "}"
        inner = ",\n".join("    " * (depth + 1) + nested(row, depth + 1) for row in block)
        return "{\n" + inner + "\n" + "    " * depth + "}"

    body = nested(values, 0)
    lines.append(f"static const {ctype} {name}{dims} = {body};")
    lines.append("")
    return lines


WRITERS: dict[str, Writer] = {
    w.name: w for w in (NpyWriter(), NpzWriter(), CsvWriter(), JsonWriter(), SafetensorsWriter(), CWriter())
}
