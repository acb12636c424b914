"""Reading an export back, independently of kernelsplit's writers, and exporting fixtures once.

numpy for npy/npz/csv, the json module, and a few lines of struct+json for safetensors (its
documented format).
"""

from __future__ import annotations

import functools
import json
import pathlib
import re
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from kernelsplit.errors import ExportRefusedError
from kernelsplit.export import export_artifact
from kernelsplit.model import Artifact

from .fixtures import open_cached
from .paths import SCHEMAS

SCHEMA_PATH = SCHEMAS / "export-manifest-1.json"
FORMATS = ("npy", "npz", "csv", "json", "safetensors", "c")
#: Fixture families the export tests run on: every family with Keras's outputs (all but rules/).
FAMILIES = tuple(sorted(p.parent.name for p in (SCHEMAS.parents[1] / "fixtures").glob("*/manifest.json")))


_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2"}


def read_safetensors(path: pathlib.Path) -> dict[str, tuple[np.ndarray, str]]:
    """name -> (array, safetensors dtype code); BF16 comes back as its raw uint16 words."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    body = data[8 + length :]
    out = {}
    end_max = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        end_max = max(end_max, end)
        array = np.frombuffer(body[begin:end], dtype=_ST_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = (array, info["dtype"])
    assert end_max == len(body), "safetensors byte buffer has trailing bytes"
    return out


def to_stored(values: np.ndarray, dtype: str) -> np.ndarray:
    """Numbers read from a file -> the stored representation (bfloat16: raw words), refusing rounding."""
    if dtype == "bfloat16":
        words = np.asarray(values, dtype="<f4").view("<u4")
        assert not np.any(words & 0xFFFF), "a bfloat16 value read back has low bits set"
        return (words >> 16).astype("<u2")
    as_dtype = np.asarray(values).astype(dtype)
    assert np.array_equal(as_dtype.astype(np.float64), np.asarray(values, np.float64), equal_nan=True), (
        f"values do not fit {dtype} exactly"
    )
    return as_dtype


def read_array(folder: pathlib.Path, record: dict[str, Any], fmt: str) -> np.ndarray:
    """One manifest ``arrays`` record read back from its file, in the stored representation."""
    path = folder / record["file"]
    shape, dtype = tuple(record["shape"]), record["dtype"]
    if fmt == "npy":
        values = np.load(path, allow_pickle=False)
        assert values.dtype == np.dtype(record["file_dtype"])
    elif fmt == "npz":
        with np.load(path, allow_pickle=False) as data:
            values = data[record["key"]]
        assert values.dtype == np.dtype(record["file_dtype"])
    elif fmt == "safetensors":
        values, code = read_safetensors(path)[record["key"]]
        assert code == {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16"}[dtype]
        assert values.shape == shape
        return np.array(values)
    elif fmt == "csv":
        values = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2).reshape(shape)
    elif fmt == "json":
        values = np.array(json.loads(path.read_text(encoding="ascii")), dtype=np.float64).reshape(shape)
    elif fmt == "c":
        values = read_c_array(path.read_text(encoding="ascii"), record["key"], shape)
    else:
        raise AssertionError(fmt)
    assert values.shape == shape
    return to_stored(values, dtype)


_C_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def read_c_array(text: str, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One ``static const`` array of a C header, as float64 numbers, checking its dimension macros."""
    match = re.search(rf"static const (float|double) {re.escape(name)}((?:\[\w+\])+) = (\{{.*?\}});", text, re.S)
    assert match, f"{name} is not in the header"
    macros = dict(re.findall(r"#define (\w+) (\d+)", text))
    dims = re.findall(r"\[(\w+)\]", match.group(2))
    assert tuple(int(macros[d]) for d in dims) == shape, (name, dims, shape)
    assert int(macros[f"{name.upper()}_SIZE"]) == int(np.prod(shape))
    literals = re.findall(r"[^,{}\s]+", match.group(3))
    suffix = "f" if match.group(1) == "float" else ""
    assert all(
        lit.endswith(suffix) and _C_NUMBER.fullmatch(lit.removesuffix(suffix) if suffix else lit) for lit in literals
    )
    return np.array([float(lit.removesuffix(suffix) if suffix else lit) for lit in literals], dtype=np.float64).reshape(
        shape
    )


def read_values(folder: pathlib.Path, record: dict[str, Any], fmt: str) -> np.ndarray:
    """The array as float32/float64 numbers (bfloat16 widened), for feeding torch or onnx."""
    stored = read_array(folder, record, fmt)
    if record["dtype"] == "bfloat16":
        return (stored.astype("<u4") << 16).view("<f4")
    return stored


def load_manifest(folder: pathlib.Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@functools.cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_manifest(manifest: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(manifest, schema(), cls=jsonschema.Draft202012Validator)


def do_export(path: pathlib.Path, out: pathlib.Path, **options: Any) -> dict[str, Any]:
    art: Artifact = open_cached(str(path))
    export_artifact(art, out=out, **options)
    manifest = load_manifest(out)
    validate_manifest(manifest)
    return manifest


@dataclass
class Exported:
    """One export of a fixture file: the folder and manifest, or the refusal of every layer."""

    folder: pathlib.Path | None
    manifest: dict[str, Any] | None
    refusal: str | None = None

    def refused(self, layer: str) -> str | None:
        """Why ``layer`` was not exported (None when it was)."""
        if self.manifest is None:
            return self.refusal
        reasons = {r["layer"]: r["reason"] for r in self.manifest["refused"]}
        return reasons.get(layer)


def cached_exporter(tmp_path_factory: pytest.TempPathFactory, layout: str) -> Any:
    """``get(path, fmt, assume=None) -> Exported``, exporting each combination once per module,
    with ``skip_unsupported`` (a file whose every layer is refused gives the refusal)."""
    cache: dict[tuple[str, str, str | None], Exported] = {}

    def get(path: pathlib.Path, fmt: str, assume: str | None = None) -> Exported:
        key = (str(path), fmt, assume)
        if key not in cache:
            out = tmp_path_factory.mktemp(layout) / "out"
            try:
                manifest = do_export(path, out, layout=layout, fmt=fmt, skip_unsupported=True, assume=assume)
                cache[key] = Exported(out, manifest)
            except ExportRefusedError as exc:
                cache[key] = Exported(None, None, exc.message)
        return cache[key]

    return get


def group_of(manifest: dict[str, Any], layer_name: str) -> dict[str, Any]:
    found = [g for g in manifest["groups"] if any(lay["name"] == layer_name for lay in g["layers"])]
    assert len(found) == 1, f"{layer_name}: {len(found)} groups"
    return found[0]


def group_arrays(folder: pathlib.Path, manifest: dict[str, Any], group: str, fmt: str) -> dict[str, np.ndarray]:
    """Target-name -> numbers for one group (``weight_ih_l0``..., ``W``/``R``/``B``)."""
    out = {}
    for record in manifest["arrays"]:
        if record["group"] == group:
            name = record["key"] or pathlib.PurePosixPath(record["file"]).stem
            out[name] = read_values(folder, record, fmt)
    return out


# ------------------------------------------------------------------------------------------
# What a layout must do with a fixture record, from Keras's truth in the record
# ------------------------------------------------------------------------------------------

#: Keras activations ONNX's LSTM/GRU/RNN compute exactly (docs/formats.md, "Activations and defaults").
ONNX_ACTIVATIONS = {
    "tanh", "sigmoid", "relu", "linear", "hard_sigmoid", "elu", "celu", "softplus", "softsign", "leaky_relu",
    "sparse_sigmoid",
}  # fmt: skip
TRUTH_KEYS = ("activation", "recurrent_activation", "reset_after", "go_backwards")


def computable(record: dict[str, Any], layout: str) -> bool:
    """Whether ``layout`` can compute every cell of the record, as Keras ran it."""
    for cell in record.get("cells") or [record]:
        kind, act, ract = cell["cell"], cell.get("activation"), cell.get("recurrent_activation")
        if kind == "conv_lstm":
            return False
        if layout == "pytorch":
            if kind == "simple_rnn" and act not in ("tanh", "relu"):
                return False
            if kind in ("lstm", "gru") and (act != "tanh" or ract != "sigmoid"):
                return False
            if kind == "gru" and cell.get("reset_after") is False:
                return False
        elif layout == "onnx" and not {act, ract} - {None} <= ONNX_ACTIVATIONS:
            return False
    return True


def truth(record: dict[str, Any]) -> dict[str, Any]:
    """The maths Keras ran the record's (first) cell with, in the manifest's terms."""
    keys = {"activation": record.get("activation"), "recurrent_activation": record.get("recurrent_activation")}
    keys["go_backwards"] = bool(record["go_backwards"])
    if record["cell"] == "gru":
        keys["reset_after"] = bool(record.get("reset_after"))
    return {k: v for k, v in keys.items() if v is not None or k == "activation"}


def manifest_layer(manifest: dict[str, Any], name: str) -> dict[str, Any] | None:
    for group in manifest["groups"]:
        for layer in group["layers"]:
            if layer["name"] == name:
                return layer
    return None
