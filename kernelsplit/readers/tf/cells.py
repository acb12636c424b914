"""SavedModel folders and TF checkpoints -> weight groups, without TensorFlow.

``contents.py`` gives variables with object-graph paths such as
``("layer_with_weights-0", "cell", "kernel")`` and, when the file has them, tf-keras metadata nodes
(class name and config per layer). With metadata, each recurrent node's config is walked like any
other Keras config and its cells are bound by attribute path (``cell``, ``forward_layer``,
``cells/0``...). Without metadata (Keras 3 ``export()``, bare checkpoints) tensors are grouped by
their owning object and handed on without a description: the classification step finds the cells
by their shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import IncompleteError
from ...maths import Generation
from ...model import Binding
from ..base import ReadResult, StoredTensor, WeightGroup, listing
from ..keras.config_walk import CUDNN_LAYERS, RNN_LAYERS, LayerConfig, executable_layers, walk_layer
from .contents import BundleVariable, SavedModelContents

_RECURRENT = RNN_LAYERS | CUDNN_LAYERS | {"RNN"}
_ROLES = ("kernel", "recurrent_kernel", "bias")
_CONTAINERS = {"_tf_keras_network", "_tf_keras_sequential", "_tf_keras_model"}
#: Flat variable lists that duplicate the structural paths (Keras 3 export writes both).
_FLAT_LISTS = {"variables", "_all_variables", "trainable_variables", "non_trainable_variables"}


def _stored(contents: SavedModelContents, variable: BundleVariable) -> StoredTensor:
    """The variable as a stored tensor, read on demand (strings and empty tensors: read now)."""
    key = variable.key.removesuffix("/.ATTRIBUTES/VARIABLE_VALUE")
    name = variable.path[-1] if variable.path else variable.full_name
    data = contents.data(variable)
    if data is not None:
        return StoredTensor(source=f"variables:{key}", dtype=variable.dtype, name=name, data=data)
    values, raw = contents.read_with_raw(variable)
    return StoredTensor(np.asarray(values), f"variables:{key}", variable.dtype, raw, name=name)


def to_result(contents: SavedModelContents) -> ReadResult:
    result = ReadResult(
        format=contents.format, groups=[], keras_version=contents.keras_version, notes=list(contents.notes)
    )
    if contents.metadata_source == "object-graph":
        result.written_by = Generation.TF_KERAS
    root = contents.node_at(contents.model_root)
    if root is not None:
        result.executable_layers = executable_layers(root.metadata)
    if any(node.metadata.get("class_name") in _RECURRENT for node in contents.nodes):
        _bind_with_metadata(contents, result)
    else:
        if not contents.nodes:
            result.notes.append(
                "no Keras metadata in this SavedModel/checkpoint: cells inferred from "
                "tensor shapes, names from variable names"
            )
        _bind_inferred(contents, result)
    return result


def _display_name(contents: SavedModelContents, path: tuple[str, ...], name: str) -> str:
    """Prefix a nested layer's name with the names of the models that contain it."""
    parts = []
    for depth in range(len(contents.model_root) + 1, len(path)):
        ancestor = contents.node_at(path[:depth])
        if ancestor is not None and ancestor.identifier in _CONTAINERS:
            parts.append(str(ancestor.metadata.get("name", path[depth - 1])))
    return "/".join([*parts, name])


def _bind_with_metadata(contents: SavedModelContents, result: ReadResult) -> None:
    by_path = {v.path: v for v in contents.variables}
    missing: list[str] = []
    for node in contents.nodes:
        class_name = node.metadata.get("class_name")
        if class_name not in _RECURRENT:
            continue
        stored_config = node.metadata.get("config")
        config: dict[str, Any] = stored_config if isinstance(stored_config, dict) else {}
        name = str(node.metadata.get("name") or config.get("name") or node.path[-1])
        direction = None
        if node.path and node.path[-1] in ("forward_layer", "backward_layer"):
            direction = node.path[-1].removesuffix("_layer")
            parent = contents.node_at(node.path[:-1])
            wrapper = str(parent.metadata.get("name")) if parent else node.path[-2]
            display = f"{_display_name(contents, node.path[:-1], wrapper)}/{direction}"
        else:
            display = _display_name(contents, node.path, name)
        layer = LayerConfig(str(class_name), config, name)
        for owner in walk_layer(layer, display, "", direction=direction, object_path=node.path):
            cell = owner.cell
            if cell is None:
                continue
            keys = [(*cell.object_path, role) for role in _ROLES]
            found = [by_path[key] for key in keys if key in by_path]
            where = "/".join(cell.object_path)
            if not found:
                missing.append(f"layer {cell.name}: no variables at object path {where}")
                continue
            tensors = [_stored(contents, v) for v in found]
            binding = Binding("object-graph", where)
            result.groups.append(WeightGroup(cell.name, tensors, cell.description, cell.direction, binding=binding))
    if missing:
        why = ""
        if contents.metadata_source == "object-graph":
            # docs/formats.md, "TF checkpoints": known TensorFlow 1.x gaps, not damage.
            why = (
                " (TensorFlow 1.9 and 1.10 did not save RNN cells in TF-format checkpoints, and 1.11-1.13"
                " not the cells of a StackedRNNCells)"
            )
        raise IncompleteError(
            "the config names recurrent layers whose weights are not stored: " + listing(missing) + why
        )


def _bind_inferred(contents: SavedModelContents, result: ReadResult) -> None:
    groups: dict[tuple[str, ...], list[BundleVariable]] = {}
    seen: dict[str, BundleVariable] = {}
    for variable in contents.variables:
        if variable.path and variable.path[0] in ("keras_api", "optimizer"):
            continue
        structural = bool(variable.path) and variable.path[0] not in _FLAT_LISTS
        full = variable.full_name or "/".join(variable.path)
        if not structural:
            # Keras 3 export lists each weight twice (variables/N and _all_variables/N).
            if full in seen and contents.same_bytes(seen[full], variable):
                continue
            seen[full] = variable
        key = variable.path[:-1] if structural else tuple(full.split("/")[:-1])
        groups.setdefault(key, []).append(variable)
    cells: list[tuple[tuple[str, ...], list[BundleVariable]]] = []
    for key, members in groups.items():
        by_role = {
            (m.path[-1] if m.path and m.path[0] not in _FLAT_LISTS else m.full_name.rsplit("/", 1)[-1]): m
            for m in members
        }
        if "kernel" in by_role and "recurrent_kernel" in by_role:
            cells.append((key, [by_role[r] for r in _ROLES if r in by_role]))
    names = _inferred_names([(key, ordered[0].full_name) for key, ordered in cells])
    for (key, ordered), name in zip(cells, names, strict=True):
        tensors = [_stored(contents, v) for v in ordered]
        result.groups.append(WeightGroup(name, tensors, binding=Binding("shapes", "/".join(key))))


def _inferred_names(cells: list[tuple[tuple[str, ...], str]]) -> list[str]:
    """A name per cell from its variables' TF names: the outermost scope (``lstm`` of
    ``lstm/lstm_cell/kernel``) unless two cells share it, as the two directions of a Bidirectional
    do; those keep every scope but the cell's own (``bidirectional/forward_lstm``)."""
    short = [full.split("/")[0] if full else "/".join(key) for key, full in cells]
    long = []
    for (key, full), name in zip(cells, short, strict=True):
        scopes = full.split("/")[:-1] if full else list(key)
        if len(scopes) > 1 and scopes[-1].endswith("cell"):
            scopes = scopes[:-1]
        long.append("/".join(scopes) or name)
    return [s if short.count(s) == 1 else full for s, full in zip(short, long, strict=True)]
