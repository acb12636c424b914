"""Every keras-layout file, in every format, reads back bit for bit equal to the stored gate block."""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import pytest
from support.exporting import FAMILIES, FORMATS, do_export, read_array
from support.fixtures import file_cases, open_cached
from support.paths import FIXTURES

from kernelsplit.model import array_sha256

#: float32, float16, bfloat16 and ConvLSTM (rank-4/5 kernels) files, one of each generation.
ROUNDTRIP_FILES = {
    "keras3/zoo.keras",
    "keras3/float16.keras",
    "keras3/bfloat16.keras",
    "keras3/bfloat16.weights.h5",
    "keras3/convlstm3d.keras",
    "tf_keras/zoo.h5",
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("folder", "entry", "model"),
    [c for c in file_cases(families=FAMILIES) if f"{c.values[0].name}/{c.values[1]['path']}" in ROUNDTRIP_FILES],
)
def test_keras_layout_round_trip_is_bit_exact(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], fmt: str, tmp_path: pathlib.Path
) -> None:
    path = folder / entry["path"]
    art = open_cached(str(path))
    out = tmp_path / "out"
    manifest = do_export(path, out, fmt=fmt)
    expected = {(layer.name, t.part, t.gate): t for layer in art.layers for t in layer.tensors}
    seen = set()
    for record in manifest["arrays"]:
        key = (record["layer"], record["part"], record["gate"])
        tensor = expected[key]
        got = read_array(out, record, fmt)
        stored = np.ascontiguousarray(tensor.stored_bytes_array)
        assert got.dtype.itemsize == stored.dtype.itemsize and got.shape == stored.shape, key
        assert (
            got.astype(got.dtype.newbyteorder("<")).tobytes() == stored.astype(stored.dtype.newbyteorder("<")).tobytes()
        ), key
        assert array_sha256(got) == tensor.sha256 == record["sha256"]
        assert record["dtype"] == tensor.dtype
        seen.add(key)
    assert seen == set(expected), "every block is exported once"


def test_text_formats_write_shortest_exact_decimals(tmp_path: pathlib.Path) -> None:
    """csv/json hold the float64 repr of the widened value: parsing it gives the value, no rounding."""
    manifest = do_export(FIXTURES / "keras3" / "float16.keras", tmp_path / "csv", fmt="csv")
    record = manifest["arrays"][0]
    text = (tmp_path / "csv" / record["file"]).read_text(encoding="ascii")
    for token in text.replace("\n", ",").split(","):
        if token:
            assert repr(float(token)) == token
            assert float(np.float16(float(token))) == float(token)  # exactly a float16
