"""Legacy HDF5: full-model ``.h5`` (``model_config`` + ``model_weights``) and ``save_weights``
``.h5`` (layer groups at the root), from Keras 1.x/2.x, tf.keras, tf-keras and Keras 3.

Tensors are always resolved through ``weight_names`` in its order (HDF5 iterates alphabetically),
and bound to cells by position within each top-level layer (names are not trusted; see
docs/formats.md, "Legacy HDF5").
"""

from __future__ import annotations

from collections import Counter

import h5py

from ...errors import AmbiguousFileError, CorruptFileError, IncompleteError, TooLargeError
from ...model import ArtifactFormat, Binding
from ..base import ContainerKind, Probe, Reader, ReadResult, StoredTensor, WeightGroup, listing, load_json
from .config_walk import (
    MAX_LAYERS,
    LayerConfig,
    Owner,
    executable_layers,
    legacy_weight_order,
    unknown_class_note,
    walk_layer,
)
from .h5safe import child, read_tensors, str_attr, str_list_attr

#: Top-level members that make an HDF5 file a Keras 3 v3 weight store instead.
V3_KEYS = frozenset({"layers", "_layer_checkpoint_dependencies", "vars"})


def layer_tensors(group: h5py.Group, where: str) -> list[StoredTensor]:
    """A layer group's tensors in ``weight_names`` order."""
    return read_tensors(group, str_list_attr(group, "weight_names") or [], where)


class LegacyModelReader(Reader):
    """``model.save("x.h5")``: root attr ``model_config`` and a ``model_weights`` group."""

    name = ArtifactFormat.H5_FULL

    def matches(self, probe: Probe) -> bool:
        if probe.kind != ContainerKind.HDF5:
            return False
        attrs, keys = probe.hdf5_root()
        if "model_config" in attrs:
            return True
        weights_only = {"layer_names", "layer_names0", "nb_layers"} & attrs
        return "model_weights" in keys and not weights_only and not keys & V3_KEYS

    def read(self, probe: Probe) -> ReadResult:
        return _read_legacy(probe.hdf5(), full_model=True)


class LegacyWeightsReader(Reader):
    """Legacy ``save_weights("x.h5")``: root attr ``layer_names`` and one group per layer."""

    name = ArtifactFormat.H5_WEIGHTS

    def matches(self, probe: Probe) -> bool:
        if probe.kind != ContainerKind.HDF5:
            return False
        attrs, _ = probe.hdf5_root()
        return "layer_names" in attrs or "layer_names0" in attrs

    def read(self, probe: Probe) -> ReadResult:
        return _read_legacy(probe.hdf5(), full_model=False)


def _read_legacy(h5: h5py.File, full_model: bool) -> ReadResult:
    keras_version = str_attr(h5, "keras_version")
    backend = str_attr(h5, "backend")
    weights_root: h5py.Group = h5
    config = None
    prefix = ""
    if full_model:
        root = child(h5, "model_weights", "model_weights")
        if not isinstance(root, h5py.Group):
            raise CorruptFileError("model_config present but no model_weights group")
        weights_root = root
        keras_version = keras_version or str_attr(weights_root, "keras_version")
        backend = backend or str_attr(weights_root, "backend")
        config = load_json(str_attr(h5, "model_config") or "null", "model_config")
        prefix = "model_weights"
    fmt = ArtifactFormat.H5_FULL if full_model else ArtifactFormat.H5_WEIGHTS
    result = ReadResult(format=fmt, groups=[], keras_version=keras_version, backend=backend)
    layer_names = str_list_attr(weights_root, "layer_names") or []
    if len(layer_names) > MAX_LAYERS:
        raise TooLargeError(f"layer_names lists {len(layer_names)} layers, more than the {MAX_LAYERS} read")
    if len(set(layer_names)) != len(layer_names):
        twice = next(name for name, count in Counter(layer_names).items() if count > 1)
        raise AmbiguousFileError(f"layer_names lists {twice!r} more than once: which group holds which layer?")
    model = LayerConfig.from_entry(config) if config is not None else None
    if model is not None and model.sublayers is not None:
        result.executable_layers = executable_layers(config)
        result.total_layers = len(model.sublayers)
        _bind_with_config(weights_root, prefix, model, result)
        return result
    if model is not None:
        result.notes.append(
            f"model_config describes a {model.class_name} without a layer list: cells inferred from tensor shapes"
        )
    for name in layer_names:
        group = child(weights_root, name, _join(prefix, name))
        if isinstance(group, h5py.Group):
            where = _join(prefix, name)
            result.groups.append(WeightGroup(name, layer_tensors(group, where), binding=Binding("shapes", where)))
    return result


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _bind_with_config(weights_root: h5py.Group, prefix: str, model: LayerConfig, result: ReadResult) -> None:
    missing = []
    for layer in model.sublayers or []:
        owners = list(walk_layer(layer, layer.name, ""))
        where = _join(prefix, layer.name)
        if not any(o.cell is not None for o in owners):
            if any(o.counts is None for o in owners):  # a class we do not know: search it by shapes
                _unknown_class_group(weights_root, layer, where, result)
            continue
        group = child(weights_root, layer.name, where)
        if not isinstance(group, h5py.Group):
            missing.append(f"layer {layer.name}: no group {where} in the file")
            continue
        tensors = layer_tensors(group, where)
        if not tensors:
            missing.append(f"layer {layer.name}: group {where} lists no weights")
            continue
        described = _distribute(owners, tensors, where)
        if described is None:
            note = (
                f"the config of {layer.name} does not account for its {len(tensors)} stored tensors: "
                "cells inferred from shapes"
            )
            result.groups.append(WeightGroup(layer.name, tensors, notes=[note], binding=Binding("shapes", where)))
        else:
            result.groups.extend(described)
    if missing:
        raise IncompleteError("the config names recurrent layers whose weights are not stored: " + listing(missing))


def _unknown_class_group(weights_root: h5py.Group, layer: LayerConfig, where: str, result: ReadResult) -> None:
    """A layer whose class the config walk does not know (a custom subclass of LSTM, a custom
    cell): its stored weights are searched for cells by shape, so a recurrent layer is never
    dropped because its class is not Keras's (docs/formats.md, "Classes kernelsplit does not know")."""
    group = child(weights_root, layer.name, where)
    if not isinstance(group, h5py.Group):
        return
    tensors = layer_tensors(group, where)
    if tensors:
        note = unknown_class_note(layer.class_name, layer.name)
        result.groups.append(WeightGroup(layer.name, tensors, notes=[note], binding=Binding("shapes", where)))


def _distribute(owners: list[Owner], tensors: list[StoredTensor], where: str) -> list[WeightGroup] | None:
    """One described group per cell of a top-level layer, or None when the counts do not add up."""
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
            expected = sum(o.cell.n_weights for o in cells if o.cell is not None)
            if len(cells) == len(owners) and expected and len(tensors) % expected == 0:
                per = len(tensors) // len(cells)
                slots = [(o, list(range(k * per, (k + 1) * per))) for k, o in enumerate(owners)]
            else:
                return None
        else:
            slots = [(s.owner, s.indices) for s in order]
    groups = []
    for owner, indices in slots:
        if owner.cell is None:
            continue
        cell = owner.cell
        weights = [tensors[i] for i in indices]
        listed = f"{where} weight_names[{', '.join(map(str, indices))}]"
        groups.append(
            WeightGroup(cell.name, weights, cell.description, cell.direction, binding=Binding("weight-names", listed))
        )
    return groups
