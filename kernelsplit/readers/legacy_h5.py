"""Legacy HDF5: full-model ``.h5`` (``model_config`` + ``model_weights``), ``save_weights`` ``.h5``
(layer groups at the root) from Keras 1.x/2.x, tf.keras, tf-keras and Keras 3, and Keras 0.x files.

Tensors are always resolved through ``weight_names`` in its order (HDF5 iterates alphabetically),
and bound to cells by position within each top-level layer (names are not trusted: FORMATS.md §2).
"""

from __future__ import annotations

import json

import h5py

from ..errors import CorruptFileError, UnsupportedError
from .base import CellRecord, ReadResult, StoredTensor
from .h5safe import child, read_tensors, str_attr, str_list_attr
from .inference import infer_cells
from .keras_config import LayerConfig, Owner, executable_layers, legacy_weight_order, walk_layer


def layer_tensors(group: h5py.Group, where: str) -> list[StoredTensor]:
    """A layer group's tensors in ``weight_names`` order."""
    return read_tensors(group, str_list_attr(group, "weight_names") or [], where)


def read_legacy(h5: h5py.File, full_model: bool) -> ReadResult:
    keras_version = str_attr(h5, "keras_version")
    backend = str_attr(h5, "backend")
    if full_model:
        weights_root = child(h5, "model_weights", "model_weights")
        if not isinstance(weights_root, h5py.Group):
            raise CorruptFileError("model_config present but no model_weights group")
        keras_version = keras_version or str_attr(weights_root, "keras_version")
        backend = backend or str_attr(weights_root, "backend")
        try:
            config = json.loads(str_attr(h5, "model_config") or "null")
        except ValueError as exc:
            raise CorruptFileError(f"model_config is not valid JSON: {exc}") from None
        prefix = "model_weights"
    else:
        weights_root, config, prefix = h5, None, ""
    fmt = "h5-full" if full_model else "h5-weights"
    result = ReadResult(format=fmt, cells=[], keras_version=keras_version, backend=backend)
    layer_names = str_list_attr(weights_root, "layer_names") or []
    model = LayerConfig.from_entry(config) if config is not None else None
    if model is not None and model.sublayers is not None:
        result.executable_layers = executable_layers(config)
        result.total_layers = len(model.sublayers)
        _bind_with_config(weights_root, prefix, model, result)
    else:
        if model is not None:
            result.notes.append(
                f"model_config describes a {model.class_name} without a layer list: cells inferred from tensor shapes"
            )
        for name in layer_names:
            group = child(weights_root, name, _join(prefix, name))
            if isinstance(group, h5py.Group):
                tensors = layer_tensors(group, _join(prefix, name))
                result.cells.extend(infer_cells(name, tensors))
    return result


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _bind_with_config(weights_root: h5py.Group, prefix: str, model: LayerConfig, result: ReadResult) -> None:
    for layer in model.sublayers or []:
        owners = list(walk_layer(layer, layer.name, ""))
        cells = [o for o in owners if o.cell is not None]
        if not cells:
            continue
        group = child(weights_root, layer.name, _join(prefix, layer.name))
        if not isinstance(group, h5py.Group):
            result.notes.append(f"layer {layer.name}: no weights group in the file")
            continue
        tensors = layer_tensors(group, _join(prefix, layer.name))
        if not tensors:
            result.notes.append(f"layer {layer.name}: no stored weights (never built?)")
            continue
        records = _distribute(owners, tensors)
        if records is None:
            found = infer_cells(layer.name, tensors)
            for record in found:
                record.notes.append(
                    f"the config of {layer.name} does not account for its "
                    f"{len(tensors)} stored tensors: cells inferred from shapes"
                )
            result.cells.extend(found)
        else:
            result.cells.extend(records)


def _distribute(owners: list[Owner], tensors: list[StoredTensor]) -> list[CellRecord] | None:
    cells = [o for o in owners if o.cell is not None]
    if len(owners) == 1:
        slots = [(owners[0], list(range(len(tensors))))]
    else:
        order = legacy_weight_order(owners)
        if order is None:
            return None
        total = sum(len(s.indices) for s in order)
        if total != len(tensors):
            # Keras 1 per-gate cells store 3 tensors per gate: scale uniformly if that explains it.
            expected = sum(o.cell.n_weights for o in cells)
            if len(cells) == len(owners) and expected and len(tensors) % expected == 0:
                per = len(tensors) // len(cells)
                slots = [(o, list(range(k * per, (k + 1) * per))) for k, o in enumerate(owners)]
            else:
                return None
        else:
            slots = [(s.owner, s.indices) for s in order]
    records = []
    for owner, indices in slots:
        if owner.cell is None:
            continue
        cell = owner.cell
        records.append(
            CellRecord(
                name=cell.name,
                class_name=cell.class_name,
                kind=cell.kind,
                weights=[tensors[i] for i in indices],
                config=cell.hyper,
                direction=cell.direction,
                storage="cudnn" if cell.is_cudnn else None,
            )
        )
    return records


def read_keras0(h5: h5py.File) -> ReadResult:
    """Keras 0.x ``save_weights``: ``nb_layers`` and ``layer_{k}/param_{n}``, no names, no config."""
    result = ReadResult(format="h5-keras0", cells=[], keras_version="0.x")
    try:
        count = int(h5.attrs["nb_layers"])
    except (TypeError, ValueError) as exc:
        raise CorruptFileError(f"nb_layers attribute is not a number: {exc}") from None
    for k in range(count):
        group = child(h5, f"layer_{k}", f"layer_{k}")
        if not isinstance(group, h5py.Group):
            raise CorruptFileError(f"layer_{k} listed by nb_layers is missing")
        n_params = int(group.attrs.get("nb_params", len(group)))
        tensors = read_tensors(group, [f"param_{n}" for n in range(n_params)], f"layer_{k}")
        for record in infer_cells(f"layer_{k}", tensors):
            _check_keras0_cell(record, f"layer_{k}")
            result.cells.append(record)
    return result


def _check_keras0_cell(record: CellRecord, where: str) -> None:
    """Refuse what nameless Keras 0.x shapes cannot identify (the file records no layer class).

    Nine (W, U, b) triples are a GRU, but Keras 0.1-0.2's JZS3 stores exactly the same nine
    arrays (W_z, U_z, b_z, W_r, ...) and computes something else (z on tanh(h), roles of z
    swapped), so calling them a GRU would be a guess. A 12-array LSTM has no such twin.
    """
    if record.storage == "keras1" and len(record.weights) == 9:
        raise UnsupportedError(
            f"Keras 0.x GRU weights without config: {where} holds 9 per-gate (W, U, b) arrays, "
            "which Keras 0.1-0.2's JZS3 stores identically with different maths"
        )
    if (
        record.storage is None
        and len(record.weights) == 3
        and record.weights[1].array.ndim == 2
        and record.weights[1].shape[0] == record.weights[1].shape[1]
    ):
        record.notes.append(
            "Keras 0.x: a SimpleRNN, or a SimpleDeepRNN(depth=1) of Keras 0.1-0.2 "
            "(same three arrays, inner activation on h @ U)"
        )
