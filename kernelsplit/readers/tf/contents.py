"""SavedModel folders and TF checkpoints as plain data, read without TensorFlow (docs/formats.md,
"SavedModel and TF checkpoints").

Only bytes are decoded: the ``variables/`` TensorBundle, the object graph stored in it, and the
Keras metadata (``keras_metadata.pb``, else the user objects in ``saved_model.pb``). Functions in
``saved_model.pb`` are never loaded, traced or executed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import CorruptFileError, NotAModelError, NotFoundError, UnsupportedError
from ...model import ArtifactFormat
from . import metadata, object_graph
from .metadata import KerasNode
from .prefix import is_savedmodel_dir, resolve_checkpoint_prefix
from .tensorbundle import BundleData, TensorBundle

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
#: saved_model.pb and keras_metadata.pb are protobufs, which cannot exceed 2 GiB.
MAX_PROTO_BYTES = (1 << 31) - 1

__all__ = ["BundleVariable", "KerasNode", "SavedModelContents", "read_checkpoint", "read_savedmodel"]


@dataclass(frozen=True)
class BundleVariable:
    """One variable tensor of the bundle, located in the object graph."""

    #: Preferred object path, e.g. ``("layer_with_weights-0", "cell", "kernel")``; for Keras 3
    #: ``export()`` (no structural path) ``("_all_variables", "3")``.
    path: tuple[str, ...]
    #: The variable's TF name, e.g. ``lstm/lstm_cell/kernel``; it may be ambiguous
    #: (docs/formats.md, "SavedModel and TF checkpoints").
    full_name: str
    #: The checkpoint key, e.g. ``variables/0/.ATTRIBUTES/VARIABLE_VALUE``.
    key: str
    dtype: str
    shape: tuple[int, ...]
    node_id: int = -1
    #: The plain shortest object path (the one the checkpoint key was built from).
    shortest_path: tuple[str, ...] = ()


@dataclass
class SavedModelContents:
    """What a SavedModel folder or TF checkpoint holds, as plain data."""

    path: str
    format: ArtifactFormat
    keras_version: str | None
    nodes: list[KerasNode]
    variables: list[BundleVariable]
    bundle: TensorBundle | None
    tensorflow_version: str | None = None
    #: ``keras_metadata.pb``, ``saved_model.pb``, ``object-graph`` (TF 1.9-1.13 checkpoints) or None
    #: (no Keras config: other checkpoints, Keras 3 export).
    metadata_source: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Object path of the Keras model (``("model",)`` in a ``tf.train.Checkpoint(model=...)``).
    model_root: tuple[str, ...] = ()

    def read(self, variable: BundleVariable | str) -> np.ndarray:
        """Values of a variable (bfloat16 decoded to float32)."""
        return self._bundle().read(variable if isinstance(variable, str) else variable.key)

    def read_with_raw(self, variable: BundleVariable | str) -> tuple[np.ndarray, np.ndarray | None]:
        """``(values, raw)`` where ``raw`` holds the stored bfloat16 words (else None)."""
        return self._bundle().read_with_raw(variable if isinstance(variable, str) else variable.key)

    def data(self, variable: BundleVariable) -> BundleData | None:
        """The variable to be read on demand (checksum verified now); None for strings."""
        return self._bundle().data(variable.key)

    def same_bytes(self, one: BundleVariable, other: BundleVariable) -> bool:
        """Whether two variables store the same dtype, shape and bytes (compared window by window)."""
        first, second = self.data(one), self.data(other)
        if first is None or second is None:
            return bool(np.array_equal(self.read(one), self.read(other)))
        if first.dtype != second.dtype or first.shape != second.shape:
            return False
        return all(first.read(w).tobytes() == second.read(w).tobytes() for w in first.windows(1 << 20))

    def node_at(self, path: tuple[str, ...]) -> KerasNode | None:
        for node in self.nodes:
            if node.path == path:
                return node
        return None

    def _bundle(self) -> TensorBundle:
        if self.bundle is None:
            raise NotFoundError(f"{self.path}: no variables")
        return self.bundle


# -------------------------------------------------------------------------------------- reading


def _read_proto(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_PROTO_BYTES:
        raise CorruptFileError(f"{path}: {size} bytes, larger than any protobuf can be")
    return path.read_bytes()


def _variables(bundle: TensorBundle, notes: list[str]) -> list[BundleVariable]:
    if OBJECT_GRAPH_KEY not in bundle.entries:
        notes.append("no _CHECKPOINTABLE_OBJECT_GRAPH: TF1-style name-based checkpoint")
        return [
            BundleVariable(tuple(key.split("/")), key, key, e.dtype, e.shape, -1, ())
            for key, e in bundle.entries.items()
            if e.dtype != "string"
        ]
    strings = bundle.read_strings(OBJECT_GRAPH_KEY)
    if len(strings) != 1:
        raise CorruptFileError(f"{bundle.prefix}: object graph is not a scalar string")
    graph = object_graph.parse_object_graph(strings[0])
    roots = {key.split("/", 1)[0] for key in bundle.entries}
    if {"_all_variables", "variables"} <= roots:
        notes.append(
            "Keras 3 export(): _all_variables/N and variables/N are two copies of the same "
            "weights (match them by full_name or digest)"
        )
    out: list[BundleVariable] = []
    for tensor in object_graph.tracked_tensors(graph):
        entry = bundle.entries.get(tensor.checkpoint_key)
        if entry is None:
            raise CorruptFileError(
                f"{bundle.prefix}: object graph names key {tensor.checkpoint_key!r}, which the index does not hold"
            )
        out.append(
            BundleVariable(
                tensor.path,
                tensor.full_name,
                tensor.checkpoint_key,
                entry.dtype,
                entry.shape,
                tensor.node_id,
                tensor.shortest_path,
            )
        )
    return out


def _keras_version(nodes: list[KerasNode]) -> str | None:
    for node in sorted(nodes, key=lambda n: len(n.path)):
        version = node.metadata.get("keras_version")
        if isinstance(version, str):
            return version
    return None


def read_checkpoint(prefix: str | os.PathLike[str], verify_crc: bool = True) -> SavedModelContents:
    """Read a TF-format checkpoint (``model.save_weights("ckpt/ckpt")``, ``tf.train.Checkpoint``).

    TensorFlow 1.9-1.13 also stored every object's config as an ``OBJECT_CONFIG_JSON`` string
    (docs/formats.md, "TF checkpoints"): those become the Keras nodes the cells are bound by.
    """
    given = Path(prefix)
    bundle = TensorBundle.open(resolve_checkpoint_prefix(given), verify_crc=verify_crc)
    notes: list[str] = []
    variables = _variables(bundle, notes)
    nodes = _object_configs(bundle)
    contents = SavedModelContents(str(given), ArtifactFormat.TF_CHECKPOINT, None, nodes, variables, bundle, notes=notes)
    if nodes:
        contents.metadata_source = "object-graph"
        contents.model_root = min((n.path for n in nodes if n.identifier == NETWORK), key=len, default=())
        notes.append("layer configs read from the checkpoint's OBJECT_CONFIG_JSON (written by TensorFlow 1.9-1.13)")
    return contents


#: The identifier given to a model's node (``metadata.KerasNode``), as tf-keras metadata names it.
NETWORK = "_tf_keras_network"
_MODELS = {"Model", "Functional", "Sequential"}
#: A config string larger than this is not one TensorFlow wrote for a Keras model.
_MAX_CONFIG_BYTES = 64 << 20


def _object_configs(bundle: TensorBundle) -> list[KerasNode]:
    """The Keras config each object of a TF 1.9-1.13 checkpoint stored, as Keras nodes at its path."""
    if OBJECT_GRAPH_KEY not in bundle.entries:
        return []
    graph = object_graph.parse_object_graph(bundle.read_strings(OBJECT_GRAPH_KEY)[0])
    paths = object_graph.object_paths(graph)
    found: list[KerasNode] = []
    for node in graph:
        for attribute in node.attributes:
            if attribute.name != "OBJECT_CONFIG_JSON" or node.node_id not in paths:
                continue
            entry = bundle.entries.get(attribute.checkpoint_key)
            if entry is None or entry.size > _MAX_CONFIG_BYTES:
                raise CorruptFileError(f"{bundle.prefix}: config {attribute.checkpoint_key!r} is missing or too large")
            (text,) = bundle.read_strings(attribute.checkpoint_key)[:1] or [b""]
            config = metadata.parse_json(text.decode("utf-8", errors="replace"), attribute.checkpoint_key)
            class_name = config.get("class_name")
            inner = config.get("config")
            if not isinstance(class_name, str):
                continue
            name = inner.get("name") if isinstance(inner, dict) else None
            identifier = NETWORK if class_name in _MODELS else "_tf_keras_layer"
            described = {"class_name": class_name, "config": inner, "name": name}
            found.append(KerasNode(node.node_id, paths[node.node_id], identifier, described))
    return found


def read_savedmodel(path: str | os.PathLike[str], verify_crc: bool = True) -> SavedModelContents:
    """Read a SavedModel folder: variables, object paths and (when present) Keras metadata."""
    folder = Path(path)
    if not folder.exists():
        raise NotFoundError(f"{folder}: no such folder")
    if not is_savedmodel_dir(folder):
        raise NotAModelError(f"{folder}: not a SavedModel folder (no saved_model.pb)")
    pb = folder / "saved_model.pb"
    if not pb.is_file():
        raise UnsupportedError(f"{folder}: text-format saved_model.pbtxt is not supported")
    notes: list[str] = []
    proto = metadata.parse_saved_model(_read_proto(pb))
    if proto.schema_version not in (0, 1):
        raise UnsupportedError(f"{pb}: SavedModel schema version {proto.schema_version}")

    metadata_path = folder / "keras_metadata.pb"
    nodes: list[KerasNode]
    source: str | None
    if metadata_path.is_file():
        nodes = metadata.parse_keras_metadata(_read_proto(metadata_path))
        source = "keras_metadata.pb"
    else:
        nodes = metadata.embedded_keras_nodes(proto.object_graph)
        source = "saved_model.pb" if nodes else None
    if source is None:
        notes.append("no Keras metadata (e.g. Keras 3 export()): layer configs are not stored")

    variables_dir = folder / "variables"
    bundle: TensorBundle | None = None
    variables: list[BundleVariable] = []
    if (variables_dir / "variables.index").is_file():
        bundle = TensorBundle.open(variables_dir / "variables", verify_crc=verify_crc)
        variables = _variables(bundle, notes)
    elif variables_dir.is_dir() and any(variables_dir.glob("variables.data-*")):
        raise CorruptFileError(f"{variables_dir}: data shards without variables.index")
    else:
        notes.append("SavedModel has no variables")
    return SavedModelContents(
        str(folder),
        ArtifactFormat.SAVEDMODEL,
        _keras_version(nodes),
        nodes,
        variables,
        bundle,
        proto.tensorflow_version,
        source,
        notes,
    )
