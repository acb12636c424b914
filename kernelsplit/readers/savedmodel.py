"""SavedModel folders and TF checkpoints, read without TensorFlow (FORMATS.md §5, §7.4).

Only bytes are decoded: the ``variables/`` TensorBundle, the object graph stored in it, and the
Keras metadata (``keras_metadata.pb``, else the user objects in ``saved_model.pb``). Functions in
``saved_model.pb`` are never loaded, traced or executed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, NotAModelError, NotFoundError, UnsupportedError
from . import tf_objects
from .tensorbundle import V1_MESSAGE, TensorBundle, looks_like_v1
from .tf_objects import KerasNode

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
#: saved_model.pb and keras_metadata.pb are protobufs, which cannot exceed 2 GiB.
MAX_PROTO_BYTES = (1 << 31) - 1

__all__ = [
    "BundleVariable",
    "KerasNode",
    "SavedModelContents",
    "is_checkpoint_prefix",
    "is_savedmodel_dir",
    "read_checkpoint",
    "read_savedmodel",
    "resolve_checkpoint_prefix",
]


@dataclass(frozen=True)
class BundleVariable:
    """One variable tensor of the bundle, located in the object graph."""

    #: Preferred object path, e.g. ``("layer_with_weights-0", "cell", "kernel")``; for Keras 3
    #: ``export()`` (no structural path) ``("_all_variables", "3")``.
    path: tuple[str, ...]
    #: The variable's TF name, e.g. ``lstm/lstm_cell/kernel`` (may be ambiguous, see FORMATS.md §5.1).
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
    #: ``savedmodel`` or ``tf-checkpoint``.
    format: str
    keras_version: str | None
    nodes: list[KerasNode]
    variables: list[BundleVariable]
    bundle: TensorBundle | None
    tensorflow_version: str | None = None
    #: ``keras_metadata.pb``, ``saved_model.pb`` or None (no Keras config: checkpoints, Keras 3 export).
    metadata_source: str | None = None
    notes: list[str] = field(default_factory=list)

    def read(self, variable: BundleVariable | str) -> np.ndarray:
        """Values of a variable (bfloat16 decoded to float32)."""
        return self._bundle().read(variable if isinstance(variable, str) else variable.key)

    def read_with_raw(self, variable: BundleVariable | str) -> tuple[np.ndarray, np.ndarray | None]:
        """``(values, raw)`` where ``raw`` holds the stored bfloat16 words (else None)."""
        return self._bundle().read_with_raw(variable if isinstance(variable, str) else variable.key)

    def node_at(self, path: tuple[str, ...]) -> KerasNode | None:
        for node in self.nodes:
            if node.path == path:
                return node
        return None

    def _bundle(self) -> TensorBundle:
        if self.bundle is None:
            raise NotFoundError(f"{self.path}: no variables")
        return self.bundle


# ------------------------------------------------------------------------------------ detection


def is_savedmodel_dir(path: str | os.PathLike[str]) -> bool:
    path = Path(path)
    return path.is_dir() and ((path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file())


_CKPT_LINE = re.compile(r'^\s*model_checkpoint_path\s*:\s*"((?:[^"\\]|\\.)*)"\s*$', re.M)


def _from_checkpoint_file(folder: Path) -> Path | None:
    state = folder / "checkpoint"
    if not state.is_file() or state.stat().st_size > 1 << 20:
        return None
    match = _CKPT_LINE.search(state.read_text(encoding="utf-8", errors="replace"))
    if not match:
        return None
    try:
        target = Path(match.group(1).encode("utf-8").decode("unicode_escape"))
    except UnicodeDecodeError:
        return None
    # Never follow the state file out of the folder (absolute paths are common in copied TF1
    # checkpoints and point at the original machine): use the basename next to the file instead.
    if target.is_absolute() or ".." in target.parts:
        return folder / target.name
    return folder / target


def resolve_checkpoint_prefix(path: str | os.PathLike[str]) -> Path:
    """Turn what a user may pass (prefix, ``x.index``, a folder with a ``checkpoint`` file or a
    single ``*.index``) into a V2 checkpoint prefix."""
    path = Path(path)
    if path.name.endswith(".index") and path.is_file():
        return path.with_name(path.name[: -len(".index")])
    if path.is_dir():
        target = _from_checkpoint_file(path)
        if target is not None:
            return target
        indexes = sorted(path.glob("*.index"))
        if len(indexes) == 1:
            return indexes[0].with_name(indexes[0].name[: -len(".index")])
        if any(p.name.endswith(".meta") for p in path.iterdir()) and not indexes:
            raise UnsupportedError(f"{path}: {V1_MESSAGE}")
        raise NotAModelError(f"{path}: folder holds no TF checkpoint")
    return path


def is_checkpoint_prefix(path: str | os.PathLike[str]) -> bool:
    """True for a V2 checkpoint prefix (``ckpt`` with ``ckpt.index``), its ``.index`` file, or a
    folder with a ``checkpoint`` file (or exactly one ``*.index``). A SavedModel folder is not one."""
    path = Path(path)
    if is_savedmodel_dir(path):
        return False
    try:
        prefix = resolve_checkpoint_prefix(path)
    except (NotAModelError, UnsupportedError):
        return path.is_dir() and (path / "checkpoint").is_file()
    if prefix.with_name(prefix.name + ".index").is_file() or looks_like_v1(prefix):
        return True  # V1 prefixes count, so that reading them reports "unsupported"
    return path.is_dir() and (path / "checkpoint").is_file()


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
    graph = tf_objects.parse_object_graph(strings[0])
    roots = {key.split("/", 1)[0] for key in bundle.entries}
    if {"_all_variables", "variables"} <= roots:
        notes.append(
            "Keras 3 export(): _all_variables/N and variables/N are two copies of the same "
            "weights (match them by full_name or digest)"
        )
    out: list[BundleVariable] = []
    for tensor in tf_objects.tracked_tensors(graph):
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
    """Read a TF-format checkpoint (``model.save_weights("ckpt/ckpt")``, ``tf.train.Checkpoint``)."""
    given = Path(prefix)
    if not given.exists() and not given.with_name(given.name + ".index").exists():
        if looks_like_v1(given):
            raise UnsupportedError(f"{given}: {V1_MESSAGE}")
        raise NotFoundError(f"{given}: no such checkpoint")
    resolved = resolve_checkpoint_prefix(given)
    bundle = TensorBundle.open(resolved, verify_crc=verify_crc)
    notes: list[str] = []
    variables = _variables(bundle, notes)
    return SavedModelContents(str(given), "tf-checkpoint", None, [], variables, bundle, None, None, notes)


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
    proto = tf_objects.parse_saved_model(_read_proto(pb))
    if proto.schema_version not in (0, 1):
        raise UnsupportedError(f"{pb}: SavedModel schema version {proto.schema_version}")

    metadata_path = folder / "keras_metadata.pb"
    nodes: list[KerasNode]
    source: str | None
    if metadata_path.is_file():
        nodes = tf_objects.parse_keras_metadata(_read_proto(metadata_path))
        source = "keras_metadata.pb"
    else:
        nodes = tf_objects.embedded_keras_nodes(proto.object_graph)
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
        "savedmodel",
        _keras_version(nodes),
        nodes,
        variables,
        bundle,
        proto.tensorflow_version,
        source,
        notes,
    )


def describe(contents: SavedModelContents) -> dict[str, Any]:
    """A JSON-friendly summary (debugging aid)."""
    return {
        "path": contents.path,
        "format": contents.format,
        "keras_version": contents.keras_version,
        "tensorflow_version": contents.tensorflow_version,
        "metadata_source": contents.metadata_source,
        "nodes": [
            {"path": "/".join(n.path), "identifier": n.identifier, "class_name": n.metadata.get("class_name")}
            for n in contents.nodes
        ],
        "variables": [
            {"path": "/".join(v.path), "full_name": v.full_name, "key": v.key, "dtype": v.dtype, "shape": list(v.shape)}
            for v in contents.variables
        ],
        "notes": contents.notes,
    }
