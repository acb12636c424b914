"""Keras 3 (and tf-keras >= 2.12) v3 stores: ``.keras`` zips, unzipped folders, ``.weights.h5``.

Cells are bound to HDF5 groups by the path the config walk computes (``layers/lstm/cell/vars``);
tf-keras 2.12-2.14 spelled ``layers`` as ``_layer_checkpoint_dependencies``, so both are tried.
Without a config, every ``vars`` group holding cell-shaped tensors is reported as inferred.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py

from ..errors import CorruptFileError, NotAModelError, UnsafeFileError
from .base import CellRecord, ReadResult, StoredTensor
from .h5safe import child, open_file, read_tensors
from .inference import infer_cells
from .keras_config import LayerConfig, executable_layers, walk_container

if TYPE_CHECKING:
    import zipfile

WEIGHTS_H5 = "model.weights.h5"
WEIGHTS_NPZ = "model.weights.npz"
#: Keras stores members uncompressed; a member inflating 100x past 64 MiB is refused, not inflated.
_ZIP_BOMB_RATIO = 100
_ZIP_BOMB_BYTES = 64 << 20
_ALT_LAYERS = "_layer_checkpoint_dependencies"


def _zip_member(archive: zipfile.ZipFile, name: str, path: str) -> bytes:
    import zipfile

    info = archive.getinfo(name)
    if info.file_size > _ZIP_BOMB_BYTES and info.file_size > _ZIP_BOMB_RATIO * max(info.compress_size, 1):
        raise UnsafeFileError(
            f"zip member {name} declares {info.file_size} bytes from {info.compress_size} stored (zip bomb)"
        )
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise CorruptFileError(f"cannot read {name} from the archive: {exc}") from None


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptFileError(f"{what} is not valid JSON: {exc}") from None


def read_keras_zip(path: Path) -> ReadResult:
    import zipfile  # not at module level: it costs start-up time for every .h5 file

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptFileError(f"not a readable zip archive: {exc}") from None
    with archive:
        names = set(archive.namelist())
        if "config.json" not in names:
            raise NotAModelError("zip archive without config.json: not a .keras model")
        config = _parse_json(_zip_member(archive, "config.json", str(path)), "config.json")
        metadata = {}
        if "metadata.json" in names:
            metadata = _parse_json(_zip_member(archive, "metadata.json", str(path)), "metadata.json")
        if WEIGHTS_H5 not in names:
            if WEIGHTS_NPZ in names:
                raise UnsafeFileError(
                    "weights are model.weights.npz: reading them needs pickle, "
                    "which can run code; re-save with the default .h5 weights"
                )
            raise CorruptFileError(f".keras archive has no {WEIGHTS_H5}")
        weights = io.BytesIO(_zip_member(archive, WEIGHTS_H5, str(path)))
    return _read_v3(weights, config, metadata, "keras-zip", f"{WEIGHTS_H5}:")


def read_keras_dir(path: Path) -> ReadResult:
    config = _parse_json((path / "config.json").read_bytes(), "config.json")
    metadata_path = path / "metadata.json"
    metadata = _parse_json(metadata_path.read_bytes(), "metadata.json") if metadata_path.exists() else {}
    weights_path = path / WEIGHTS_H5
    if not weights_path.exists():
        if (path / WEIGHTS_NPZ).exists():
            raise UnsafeFileError("weights are model.weights.npz: reading them needs pickle")
        raise CorruptFileError(f"folder has config.json but no {WEIGHTS_H5}")
    return _read_v3(weights_path, config, metadata, "keras-dir", f"{WEIGHTS_H5}:")


def read_weights_h5(h5: h5py.File) -> ReadResult:
    return _bind_without_config(h5, ReadResult(format="keras3-weights-h5", cells=[]), "")


def _read_v3(source: Any, config: Any, metadata: Any, fmt: str, prefix: str) -> ReadResult:
    keras_version = metadata.get("keras_version") if isinstance(metadata, dict) else None
    if not isinstance(keras_version, str):
        keras_version = None
    result = ReadResult(format=fmt, cells=[], keras_version=keras_version, executable_layers=executable_layers(config))
    with open_file(source, WEIGHTS_H5) as h5:
        model = LayerConfig.from_entry(config)
        if model.sublayers is None:
            result.notes.append(
                f"config.json describes a {model.class_name} without a layer list "
                "(subclassed model): cells found from the weight store's shapes"
            )
            return _bind_without_config(h5, result, prefix)
        result.total_layers = len(model.sublayers)
        for owner in walk_container(model, "", ""):
            cell = owner.cell
            if cell is None:
                continue
            tensors = _vars_tensors(h5, cell.v3_path, prefix)
            if tensors is None:
                result.notes.append(f"layer {cell.name}: no weights stored at {cell.v3_path} (never built?)")
                continue
            result.cells.append(
                CellRecord(
                    name=cell.name,
                    class_name=cell.class_name,
                    kind=cell.kind,
                    weights=tensors,
                    config=cell.hyper,
                    direction=cell.direction,
                    storage="cudnn" if cell.is_cudnn else None,
                )
            )
    return result


def _vars_tensors(h5: h5py.File, owner_path: str, prefix: str) -> list[StoredTensor] | None:
    for candidate in (owner_path, owner_path.replace("layers/", f"{_ALT_LAYERS}/")):
        group = child(h5, f"{candidate}/vars", f"{prefix}{candidate}/vars")
        if isinstance(group, h5py.Group) and len(group):
            return numbered_tensors(group, f"{prefix}{candidate}/vars")
    return None


def numbered_tensors(group: h5py.Group, where: str) -> list[StoredTensor]:
    """Datasets named 0, 1, 2...: sorted numerically (h5py iterates "10" before "2")."""
    keys = list(group.keys())
    if not all(k.isdigit() for k in keys):
        raise CorruptFileError(f"{where} holds non-numbered entries {sorted(keys)[:5]}")
    return read_tensors(group, sorted(keys, key=int), where)


_SNAKE_TO_CLASS = {
    "lstm": "LSTM",
    "gru": "GRU",
    "simple_rnn": "SimpleRNN",
    "conv_lstm1d": "ConvLSTM1D",
    "conv_lstm2d": "ConvLSTM2D",
    "conv_lstm3d": "ConvLSTM3D",
    "lstm_cell": "LSTMCell",
    "gru_cell": "GRUCell",
    "simple_rnn_cell": "SimpleRNNCell",
}
_DIRECTIONS = {"forward_layer": "forward", "backward_layer": "backward"}
#: Top-level store entries that never hold layer weights (optimizer slots, metrics, the root).
SKIP_TOP = {"optimizer", "metrics", "vars"}


def _bind_without_config(h5: h5py.File, result: ReadResult, prefix: str) -> ReadResult:
    """Report every ``vars`` group that holds a cell, named after its store path."""
    if not any(key in h5 for key in ("layers", _ALT_LAYERS)) and "vars" not in h5:
        raise NotAModelError("HDF5 file without Keras weights (no layers/ or model_weights)")

    seen: set[int] = set()

    def visit(group: h5py.Group, path: list[str]) -> None:
        for key in sorted(group.keys()):
            if not path and key in SKIP_TOP:
                continue
            where = "/".join([*path, key])
            entry = child(group, key, prefix + where)
            if not isinstance(entry, h5py.Group):
                continue
            identity = hash(entry.id)  # h5py hashes (file, object address): hard links share it
            if identity in seen:
                raise CorruptFileError(f"group {prefix + where} is reached twice (hard-link cycle or alias)")
            seen.add(identity)
            if key == "vars":
                if len(entry):
                    _add_inferred(entry, path, result, prefix + where)
                continue
            visit(entry, [*path, key])

    visit(h5, [])
    return result


def _add_inferred(group: h5py.Group, path: list[str], result: ReadResult, where: str) -> None:
    add_inferred_tensors(numbered_tensors(group, where), path, result, where)


def add_inferred_tensors(tensors: list[StoredTensor], path: list[str], result: ReadResult, where: str) -> None:
    """Report the cells in one ``vars`` group's tensors (already in numeric order).

    ``path`` is the store path of the group's owner (``["layers", "lstm", "cell"]``); it names the
    cell and hints its class, as for an unsharded ``.weights.h5``. Shared with the sharded reader.
    """
    parts = [p for p in path if p not in ("layers", _ALT_LAYERS, "cell", "cells")]
    direction = next((_DIRECTIONS[p] for p in parts if p in _DIRECTIONS), None)
    name = "/".join(_DIRECTIONS.get(p, p) for p in parts) or "root"
    owner = parts[-2] if len(parts) > 1 and parts[-1] in _DIRECTIONS else (parts[-1] if parts else "")
    stem, _, counter = owner.rpartition("_")
    hinted = _SNAKE_TO_CLASS.get(owner) or (_SNAKE_TO_CLASS.get(stem) if counter.isdigit() else None)
    for record in infer_cells(name, tensors):
        record.name = name
        record.direction = direction
        if hinted:
            record.class_name = f"inferred:{hinted}"
            record.notes = [
                f"no stored config: class inferred from the store path ({'/'.join(path)}) and tensor shapes"
            ]
        result.cells.append(record)
