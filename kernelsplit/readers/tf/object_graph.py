"""Decode TensorFlow's object graph (``_CHECKPOINTABLE_OBJECT_GRAPH``) from raw protobuf bytes.

``trackable_object_graph.proto``: ``TrackableObjectGraph{nodes=1: TrackableObject{children=1:
ObjectReference{node_id=1, local_name=2}, attributes=2: SerializedTensor{name=1, full_name=2,
checkpoint_key=3}, slot_variables=3: SlotVariableReference{original_variable_node_id=1,
slot_name=2, slot_variable_node_id=3}}}``. Object paths (``layer_with_weights-0/cell/kernel``)
are what bind checkpoint tensors to Keras layers. Nothing here is ever executed.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from ...errors import CorruptFileError
from . import protowire as pw

#: Children that are flat lists of variables/trackables (``variables/3``, ``keras_api/...``). A path
#: through them is a valid checkpoint key but says nothing about which layer owns the tensor, so
#: :func:`object_paths` only uses them when no structural path exists.
AGGREGATE_CHILDREN = frozenset(
    {
        "variables",
        "trainable_variables",
        "non_trainable_variables",
        "_all_variables",
        "trainable_weights",
        "non_trainable_weights",
        "weights",
        "keras_api",
        "_variables",
        "_trainable_variables",
        "_non_trainable_variables",
        "signatures",
        "_default_save_signature",
        "_tracked",
    }
)
_AGGREGATE_COST = 1000


@dataclass(frozen=True)
class Attribute:
    name: str
    full_name: str
    checkpoint_key: str


@dataclass
class GraphNode:
    node_id: int
    #: ``(child node_id, local_name)`` in stored order.
    children: list[tuple[int, str]] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    #: ``(original_variable_node_id, slot_name, slot_variable_node_id)``
    slot_variables: list[tuple[int, str, int]] = field(default_factory=list)
    #: saved_model.pb only: ``SavedUserObject.identifier`` / ``.metadata``.
    identifier: str | None = None
    metadata: str | None = None


@dataclass(frozen=True)
class TrackedTensor:
    """One tensor attribute of the object graph, located by its object path."""

    node_id: int
    #: Preferred object path from the root: structural (``layer_with_weights-0/cell/kernel``) when
    #: one exists, else through aggregate lists (``_all_variables/3``).
    path: tuple[str, ...]
    #: The plain shortest path (the one TensorFlow turned into the checkpoint key).
    shortest_path: tuple[str, ...]
    attribute: str
    full_name: str
    checkpoint_key: str


def check_graph(nodes: list[GraphNode], what: str) -> None:
    count = len(nodes)
    for node in nodes:
        for child, _ in node.children:
            if not 0 <= child < count:
                raise CorruptFileError(f"{what}: node {node.node_id} has child {child} of {count}")


def parse_child(value: memoryview, what: str) -> tuple[int, str]:
    node_id, name = 0, ""
    for fnum, wire, val in pw.iter_fields(value, what):
        if fnum == 1:
            node_id = pw.expect_int(fnum, wire, val, what)
        elif fnum == 2:
            name = pw.decode_str(pw.expect_bytes(fnum, wire, val, what), what)
    return node_id, name


def parse_object_graph(data: bytes | memoryview) -> list[GraphNode]:
    """Decode a serialized ``TrackableObjectGraph`` (the ``_CHECKPOINTABLE_OBJECT_GRAPH`` tensor)."""
    what = "_CHECKPOINTABLE_OBJECT_GRAPH"
    nodes: list[GraphNode] = []
    for fnum, wire, val in pw.iter_fields(data, what):
        if fnum != 1:
            continue
        node = GraphNode(len(nodes))
        for nf, nw, nv in pw.iter_fields(pw.expect_bytes(fnum, wire, val, what), what):
            if nf == 1:
                node.children.append(parse_child(pw.expect_bytes(nf, nw, nv, what), what))
            elif nf == 2:
                parts = {1: "", 2: "", 3: ""}
                for af, aw, av in pw.iter_fields(pw.expect_bytes(nf, nw, nv, what), what):
                    if af in parts:
                        parts[af] = pw.decode_str(pw.expect_bytes(af, aw, av, what), what)
                node.attributes.append(Attribute(parts[1], parts[2], parts[3]))
            elif nf == 3:
                orig, slot_name, slot = 0, "", 0
                for sf, sw, sv in pw.iter_fields(pw.expect_bytes(nf, nw, nv, what), what):
                    if sf == 1:
                        orig = pw.expect_int(sf, sw, sv, what)
                    elif sf == 2:
                        slot_name = pw.decode_str(pw.expect_bytes(sf, sw, sv, what), what)
                    elif sf == 3:
                        slot = pw.expect_int(sf, sw, sv, what)
                node.slot_variables.append((orig, slot_name, slot))
        nodes.append(node)
    check_graph(nodes, what)
    return nodes


MAX_PATH_DEPTH = 256


def _paths(nodes: list[GraphNode], aggregate_cost: int) -> dict[int, tuple[str, ...]]:
    """Cheapest path from node 0 to every reachable node (ties: stored child order).

    Parent links, not path tuples, are kept during the search so a hostile deep graph costs
    linear memory; paths deeper than MAX_PATH_DEPTH are refused.
    """
    if not nodes:
        return {}
    parent: dict[int, tuple[int, str] | None] = {}
    depth: dict[int, int] = {}
    counter = 0
    heap: list[tuple[int, int, int, int, str]] = [(0, 0, 0, -1, "")]
    while heap:
        cost, _, node_id, via, name = heapq.heappop(heap)
        if node_id in parent:
            continue
        parent[node_id] = None if via < 0 else (via, name)
        depth[node_id] = 0 if via < 0 else depth[via] + 1
        if depth[node_id] > MAX_PATH_DEPTH:
            raise CorruptFileError(f"object graph: path deeper than {MAX_PATH_DEPTH} levels")
        for child, child_name in nodes[node_id].children:
            if child in parent:
                continue
            step = aggregate_cost if child_name in AGGREGATE_CHILDREN else 1
            counter += 1
            heapq.heappush(heap, (cost + step, counter, child, node_id, child_name))
    out: dict[int, tuple[str, ...]] = {}
    for node_id in parent:
        names: list[str] = []
        link = parent[node_id]
        while link is not None:
            names.append(link[1])
            link = parent[link[0]]
        out[node_id] = tuple(reversed(names))
    return out


def object_paths(nodes: list[GraphNode]) -> dict[int, tuple[str, ...]]:
    """Preferred path of every reachable node: avoids aggregate lists when it can."""
    return _paths(nodes, _AGGREGATE_COST)


def shortest_paths(nodes: list[GraphNode]) -> dict[int, tuple[str, ...]]:
    return _paths(nodes, 1)


def _is_optimizer(path: tuple[str, ...], key: str, slot_ids: set[int], node_id: int) -> bool:
    return (
        node_id in slot_ids
        or ".OPTIMIZER_SLOT" in key
        or key.startswith("optimizer/")
        or (bool(path) and path[0] == "optimizer")
        or key.startswith("save_counter/")
        or path == ("save_counter",)
    )


def tracked_tensors(nodes: list[GraphNode], include_optimizer: bool = False) -> list[TrackedTensor]:
    """Every ``VARIABLE_VALUE`` tensor of the graph, skipping optimizer state and ``save_counter``."""
    preferred = object_paths(nodes)
    shortest = shortest_paths(nodes)
    slot_ids = {slot for node in nodes for _, _, slot in node.slot_variables}
    out: list[TrackedTensor] = []
    for node in nodes:
        if node.node_id not in preferred:
            continue  # unreachable from the root (slot variables are reached via slot_variables)
        for attr in node.attributes:
            if attr.name != "VARIABLE_VALUE":
                continue
            path = preferred[node.node_id]
            if not include_optimizer and _is_optimizer(
                shortest[node.node_id], attr.checkpoint_key, slot_ids, node.node_id
            ):
                continue
            out.append(
                TrackedTensor(
                    node.node_id,
                    path,
                    shortest[node.node_id],
                    attr.name,
                    attr.full_name,
                    attr.checkpoint_key,
                )
            )
    return out
