"""Legacy HDF5 attribute encodings Keras writers have used: chunked lists, bytes and str."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from support.paths import FIXTURES

import kernelsplit

ZOO = FIXTURES / "tf_keras" / "zoo.h5"
ZOO_WEIGHTS = FIXTURES / "tf_keras" / "zoo_weights.h5"


def _digests(path: Path) -> dict[tuple[str, str, str], str]:
    return {(layer.name, t.part, t.gate): t.sha256 for layer in kernelsplit.open(path).layers for t in layer.tensors}


def _rewrite_attr(obj: h5py.Group, name: str, chunks: int, as_bytes: bool) -> None:
    values = [v.decode() if isinstance(v, bytes) else str(v) for v in obj.attrs[name]]
    del obj.attrs[name]
    size = -(-len(values) // chunks)
    for index in range(chunks):
        part = values[index * size : (index + 1) * size]
        target = name if chunks == 1 else f"{name}{index}"
        obj.attrs[target] = (
            np.array([v.encode() for v in part], dtype=f"S{max(map(len, values))}") if as_bytes else part
        )


@pytest.mark.parametrize(("fixture", "root"), [(ZOO, "model_weights"), (ZOO_WEIGHTS, "/")])
def test_chunked_layer_and_weight_names_read_like_plain_ones(tmp_path: Path, fixture: Path, root: str) -> None:
    """Keras splits attributes over 64 KiB into name0, name1, ... (save_attributes_to_hdf5_group).

    In the weights-only file ``layer_names`` alone says which groups are layers, so an unjoined
    chunk list would lose layers there.
    """
    path = Path(shutil.copy(fixture, tmp_path / "chunked.h5"))
    with h5py.File(path, "r+") as h5:
        _rewrite_attr(h5[root], "layer_names", 3, as_bytes=False)
        _rewrite_attr(h5[root]["bidi"], "weight_names", 2, as_bytes=False)
    assert _digests(path) == _digests(fixture)


def test_fixed_length_bytes_attributes_as_h5py2_wrote_them(tmp_path: Path) -> None:
    path = Path(shutil.copy(ZOO, tmp_path / "bytes.h5"))
    with h5py.File(path, "r+") as h5:
        weights = h5["model_weights"]
        _rewrite_attr(weights, "layer_names", 1, as_bytes=True)
        for name in weights:
            group = weights[name]
            if isinstance(group, h5py.Group) and len(group.attrs.get("weight_names", [])):
                _rewrite_attr(group, "weight_names", 1, as_bytes=True)
        config = h5.attrs["model_config"]
        h5.attrs["model_config"] = np.bytes_(config.encode() if isinstance(config, str) else config)
    assert _digests(path) == _digests(ZOO)
