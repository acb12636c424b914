"""Reading an export back, independently of kernelsplit's writers, and exporting fixtures once.

numpy for npy/npz/csv, the json module, and a few lines of struct+json for safetensors (its
documented format).
"""

from __future__ import annotations

import functools
import json
import pathlib
import struct
from typing import Any

import numpy as np
import pytest

from kernelsplit.export import export_artifact
from kernelsplit.model import Artifact

from .fixtures import open_cached
from .paths import SCHEMAS

SCHEMA_PATH = SCHEMAS / "export-manifest-1.json"
FORMATS = ("npy", "npz", "csv", "json", "safetensors")
#: Fixture families the export tests run on (SavedModel families are covered by inspect's tests).
FAMILIES = ("keras3", "tf_keras", "legacy")


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
    else:
        raise AssertionError(fmt)
    assert values.shape == shape
    return to_stored(values, dtype)


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


def cached_exporter(tmp_path_factory: pytest.TempPathFactory, layout: str) -> Any:
    """``get(path, fmt) -> (folder, manifest)``, exporting each (file, format) once per module."""
    cache: dict[tuple[str, str], tuple[pathlib.Path, dict[str, Any]]] = {}

    def get(path: pathlib.Path, fmt: str) -> tuple[pathlib.Path, dict[str, Any]]:
        key = (str(path), fmt)
        if key not in cache:
            out = tmp_path_factory.mktemp(layout) / "out"
            cache[key] = (out, do_export(path, out, layout=layout, fmt=fmt, skip_unsupported=True))
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
