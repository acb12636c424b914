"""Keras 3 (and tf-keras >= 2.12) v3 stores: ``.keras`` zips, unzipped folders, ``.weights.h5``.

Cells are bound to HDF5 groups by the path the config walk computes (``layers/lstm/cell/vars``);
tf-keras 2.12-2.14 spelled ``layers`` as ``_layer_checkpoint_dependencies``, so both are tried.
Without a config, every ``vars`` group holding tensors is handed on with its store path as the
class hint (docs/formats.md, "Keras 3 .keras").
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import h5py

from ...errors import CorruptFileError, NotAModelError, UnsafeFileError
from ...model import ArtifactFormat
from ..base import ContainerKind, Probe, Reader, ReadResult, StoredTensor, WeightGroup
from .config_walk import LayerConfig, executable_layers, walk_container
from .h5safe import child, open_file, read_tensors

if TYPE_CHECKING:
    import zipfile

WEIGHTS_H5 = "model.weights.h5"
WEIGHTS_NPZ = "model.weights.npz"
#: Keras stores members uncompressed; a member inflating 100x past 64 MiB is refused, not inflated.
_ZIP_BOMB_RATIO = 100
_ZIP_BOMB_BYTES = 64 << 20
_ALT_LAYERS = "_layer_checkpoint_dependencies"
_NPZ_MESSAGE = "weights are model.weights.npz: reading them needs pickle, which can run code"


class KerasZipReader(Reader):
    """A ``.keras`` zip: ``config.json``, ``metadata.json``, ``model.weights.h5``."""

    name = ArtifactFormat.KERAS_ZIP

    def matches(self, probe: Probe) -> bool:
        return probe.kind == ContainerKind.ZIP

    def read(self, probe: Probe) -> ReadResult:
        import zipfile  # not at module level: it costs start-up time for every .h5 file

        try:
            archive = zipfile.ZipFile(probe.path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CorruptFileError(f"not a readable zip archive: {exc}") from None
        with archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise NotAModelError("zip archive without config.json: not a .keras model")
            config = _parse_json(_zip_member(archive, "config.json"), "config.json")
            metadata = {}
            if "metadata.json" in names:
                metadata = _parse_json(_zip_member(archive, "metadata.json"), "metadata.json")
            if WEIGHTS_H5 not in names:
                if WEIGHTS_NPZ in names:
                    raise UnsafeFileError(f"{_NPZ_MESSAGE}; re-save with the default .h5 weights")
                raise CorruptFileError(f".keras archive has no {WEIGHTS_H5}")
            weights = io.BytesIO(_zip_member(archive, WEIGHTS_H5))
        return _read_v3(weights, config, metadata, ArtifactFormat.KERAS_ZIP)


class KerasDirReader(Reader):
    """An unzipped ``.keras`` (Keras >= 3.4 ``zipped=False``): the same three files in a folder."""

    name = ArtifactFormat.KERAS_DIR

    def matches(self, probe: Probe) -> bool:
        return probe.has_file("config.json") and probe.has_file("metadata.json")

    def read(self, probe: Probe) -> ReadResult:
        path = probe.path
        config = _parse_json((path / "config.json").read_bytes(), "config.json")
        metadata_path = path / "metadata.json"
        metadata = _parse_json(metadata_path.read_bytes(), "metadata.json") if metadata_path.exists() else {}
        weights_path = path / WEIGHTS_H5
        if not weights_path.exists():
            if (path / WEIGHTS_NPZ).exists():
                raise UnsafeFileError(_NPZ_MESSAGE)
            raise CorruptFileError(f"folder has config.json but no {WEIGHTS_H5}")
        return _read_v3(weights_path, config, metadata, ArtifactFormat.KERAS_DIR)


class V3WeightsReader(Reader):
    """Keras 3 ``save_weights("x.weights.h5")``: the v3 store alone, without a config."""

    name = ArtifactFormat.KERAS3_WEIGHTS_H5

    def matches(self, probe: Probe) -> bool:
        return probe.kind == ContainerKind.HDF5 and bool(probe.hdf5_root()[1] & {"layers", _ALT_LAYERS, "vars"})

    def read(self, probe: Probe) -> ReadResult:
        result = ReadResult(format=ArtifactFormat.KERAS3_WEIGHTS_H5, groups=[])
        _groups_without_config(probe.hdf5(), result, "")
        return result


def _zip_member(archive: zipfile.ZipFile, name: str) -> bytes:
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


def _read_v3(source: Any, config: Any, metadata: Any, fmt: ArtifactFormat) -> ReadResult:
    prefix = f"{WEIGHTS_H5}:"
    keras_version = metadata.get("keras_version") if isinstance(metadata, dict) else None
    if not isinstance(keras_version, str):
        keras_version = None
    result = ReadResult(format=fmt, groups=[], keras_version=keras_version, executable_layers=executable_layers(config))
    with open_file(source, WEIGHTS_H5) as h5:
        model = LayerConfig.from_entry(config)
        if model.sublayers is None:
            result.notes.append(
                f"config.json describes a {model.class_name} without a layer list "
                "(subclassed model): cells found from the weight store's shapes"
            )
            _groups_without_config(h5, result, prefix)
            return result
        result.total_layers = len(model.sublayers)
        for owner in walk_container(model, "", ""):
            cell = owner.cell
            if cell is None:
                continue
            tensors = _vars_tensors(h5, cell.v3_path, prefix)
            if tensors is None:
                result.notes.append(f"layer {cell.name}: no weights stored at {cell.v3_path} (never built?)")
                continue
            result.groups.append(WeightGroup(cell.name, tensors, cell.description, cell.direction))
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


def _groups_without_config(h5: h5py.File, result: ReadResult, prefix: str) -> None:
    """Hand on every ``vars`` group that holds tensors, named after its store path."""
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
                    result.groups.append(store_group(numbered_tensors(entry, prefix + where), path))
                continue
            visit(entry, [*path, key])

    visit(h5, [])


def store_group(tensors: list[StoredTensor], path: list[str]) -> WeightGroup:
    """The tensors of one ``vars`` group without config, named and hinted by the owner's store path
    (``["layers", "lstm", "cell"]``), as for an unsharded ``.weights.h5``. Shared with the sharded reader."""
    parts = [p for p in path if p not in ("layers", _ALT_LAYERS, "cell", "cells")]
    direction = next((_DIRECTIONS[p] for p in parts if p in _DIRECTIONS), None)
    name = "/".join(_DIRECTIONS.get(p, p) for p in parts) or "root"
    owner = parts[-2] if len(parts) > 1 and parts[-1] in _DIRECTIONS else (parts[-1] if parts else "")
    stem, _, counter = owner.rpartition("_")
    hinted = _SNAKE_TO_CLASS.get(owner) or (_SNAKE_TO_CLASS.get(stem) if counter.isdigit() else None)
    return WeightGroup(name, tensors, direction=direction, class_hint=hinted, hint_source="/".join(path))
