"""Decode the Keras metadata of a SavedModel from raw protobuf bytes.

* ``keras_metadata.pb`` (tf-keras ``saved_metadata.proto``): ``SavedMetadata{nodes=1: SavedObject{
  node_id=2, node_path=3, identifier=4, metadata=5 (JSON), version=6}}``.
* ``saved_model.pb``: ``SavedModel{meta_graphs=2: MetaGraphDef{meta_info_def=1{tensorflow_version=5},
  object_graph_def=7: SavedObjectGraph{nodes=1: SavedObject{children=1, user_object=4:
  SavedUserObject{identifier=1, metadata=3}}}}}``. Only those fields are walked; ``graph_def`` and
  the function library are skipped without being decoded. Nothing here is ever executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import CorruptFileError
from ..base import load_json
from . import protowire as pw
from .object_graph import GraphNode, check_graph, object_paths, parse_child


@dataclass(frozen=True)
class KerasNode:
    """One Keras object (layer, model, metric...) as described by SavedModel metadata."""

    node_id: int
    #: Object path from the root, e.g. ``("layer_with_weights-0",)``; ``()`` is the model itself.
    path: tuple[str, ...]
    identifier: str
    metadata: dict[str, Any]

    @property
    def node_path(self) -> str:
        """``root.layer_with_weights-0`` style, as tf-keras writes it."""
        return ".".join(("root", *self.path))


def parse_json(text: str, what: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = load_json(text, f"{what}: metadata")
    except CorruptFileError as exc:
        raise CorruptFileError(f"{what}: metadata is not valid JSON ({exc.message})") from None
    if not isinstance(value, dict):
        raise CorruptFileError(f"{what}: metadata JSON is not an object")
    return value


def _split_node_path(node_path: str) -> tuple[str, ...]:
    parts = tuple(node_path.split("."))
    return parts[1:] if parts and parts[0] == "root" else parts


def parse_keras_metadata(data: bytes | memoryview) -> list[KerasNode]:
    """Decode ``keras_metadata.pb`` (``SavedMetadata``)."""
    what = "keras_metadata.pb"
    out: list[KerasNode] = []
    for fnum, wire, val in pw.iter_fields(data, what):
        if fnum != 1:
            continue
        node_id, node_path, identifier, metadata = 0, "root", "", ""
        for sf, sw, sv in pw.iter_fields(pw.expect_bytes(fnum, wire, val, what), what):
            if sf == 2:
                node_id = pw.expect_int(sf, sw, sv, what)
            elif sf == 3:
                node_path = pw.decode_str(pw.expect_bytes(sf, sw, sv, what), what)
            elif sf == 4:
                identifier = pw.decode_str(pw.expect_bytes(sf, sw, sv, what), what)
            elif sf == 5:
                metadata = pw.decode_str(pw.expect_bytes(sf, sw, sv, what), what)
        out.append(KerasNode(node_id, _split_node_path(node_path), identifier, parse_json(metadata, what)))
    return out


@dataclass
class SavedModelProto:
    """The few parts of ``saved_model.pb`` kernelsplit needs."""

    schema_version: int
    tensorflow_version: str | None
    tags: list[str]
    #: ``SavedObjectGraph`` nodes (children + user_object only); empty for TF1-style SavedModels.
    object_graph: list[GraphNode]


def _parse_saved_object(value: memoryview, node_id: int, what: str) -> GraphNode:
    node = GraphNode(node_id)
    for fnum, wire, val in pw.iter_fields(value, what):
        if fnum == 1:
            node.children.append(parse_child(pw.expect_bytes(fnum, wire, val, what), what))
        elif fnum == 4:
            for uf, uw, uv in pw.iter_fields(pw.expect_bytes(fnum, wire, val, what), what):
                if uf == 1:
                    node.identifier = pw.decode_str(pw.expect_bytes(uf, uw, uv, what), what)
                elif uf == 3:
                    node.metadata = pw.decode_str(pw.expect_bytes(uf, uw, uv, what), what)
    return node


def parse_saved_model(data: bytes | memoryview) -> SavedModelProto:
    """Walk ``SavedModel`` -> first ``MetaGraphDef`` -> meta_info_def and object_graph_def only."""
    what = "saved_model.pb"
    schema = 0
    meta_graph: memoryview | None = None
    for fnum, wire, val in pw.iter_fields(data, what):
        if fnum == 1:
            schema = pw.expect_int(fnum, wire, val, what)
        elif fnum == 2 and meta_graph is None:
            meta_graph = pw.expect_bytes(fnum, wire, val, what)
    if meta_graph is None:
        raise CorruptFileError(f"{what}: no MetaGraphDef")
    tf_version: str | None = None
    tags: list[str] = []
    nodes: list[GraphNode] = []
    for fnum, wire, val in pw.iter_fields(meta_graph, what):
        if fnum == 1:
            for mf, mw, mv in pw.iter_fields(pw.expect_bytes(fnum, wire, val, what), what):
                if mf == 4:
                    tags.append(pw.decode_str(pw.expect_bytes(mf, mw, mv, what), what))
                elif mf == 5:
                    tf_version = pw.decode_str(pw.expect_bytes(mf, mw, mv, what), what)
        elif fnum == 7:
            for of, ow, ov in pw.iter_fields(pw.expect_bytes(fnum, wire, val, what), what):
                if of == 1:
                    nodes.append(_parse_saved_object(pw.expect_bytes(of, ow, ov, what), len(nodes), what))
    check_graph(nodes, what)
    return SavedModelProto(schema, tf_version, tags, nodes)


def embedded_keras_nodes(nodes: list[GraphNode]) -> list[KerasNode]:
    """Keras metadata stored in ``saved_model.pb`` user objects (SavedModels without
    ``keras_metadata.pb``, i.e. TF <= 2.5), with paths computed from the object graph."""
    paths = object_paths(nodes)
    out: list[KerasNode] = []
    for node in nodes:
        if node.identifier is None or not node.identifier.startswith("_tf_keras"):
            continue
        if node.node_id not in paths:
            continue
        metadata = parse_json(node.metadata or "", f"saved_model.pb node {node.node_id}")
        out.append(KerasNode(node.node_id, paths[node.node_id], node.identifier, metadata))
    return out
