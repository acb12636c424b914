"""Sharded Keras 3 weights: ``<base>.weights.json`` + ``<base>_NNNNN.weights.h5`` shards.

Keras >= 3.10 ``save_weights("x.weights.json", max_shard_size=...)`` (``ShardedH5IOStore``) writes
``{"metadata": {"total_size": ...}, "weight_map": {"/layers/lstm/cell/vars": [shard, ...], ...}}``
and shards with the v3 inner layout (docs/formats.md, "Keras 3 .keras"). A ``vars`` group may be split over several
shards (the map value is then a list), so its numbered datasets are merged across them.

There is no config: every cell is bound like a ``.weights.h5`` without config (reported inferred).
Shard names come from the file, so only plain names of files in the index's own folder are opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py

from ...errors import CorruptFileError, NotAModelError, UnsafeFileError
from ...model import ArtifactFormat, Binding
from ..base import (
    MAX_JSON_BYTES,
    ContainerKind,
    Probe,
    Reader,
    ReadResult,
    StoredTensor,
    allocated_bytes,
    load_json,
    read_member,
    require_regular,
)
from .h5safe import child, open_file
from .v3 import SKIP_TOP, numbered_tensors, store_group


def _load_index(path: Path) -> dict[str, Any]:
    try:
        data = read_member(path, path.name, MAX_JSON_BYTES)
    except OSError as exc:
        raise CorruptFileError(f"cannot read: {exc.strerror or exc}") from None
    try:
        index = load_json(data, path.name)
    except CorruptFileError:
        raise NotAModelError("JSON file that is not a Keras sharded-weights index") from None
    if not isinstance(index, dict) or not isinstance(index.get("weight_map"), dict):
        raise NotAModelError("JSON file that is not a Keras sharded-weights index (no weight_map object)")
    return index


def _shard_names(key: str, value: Any) -> list[str]:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise CorruptFileError(f"weight_map[{key!r}] is not a shard file name or list of names")
    return names


def _check_shard_name(name: str, folder: Path) -> Path:
    """A shard must be a plain file name in the index's folder: no paths, no links out of it."""
    if (
        name in (".", "..")
        or "/" in name
        or "\\" in name
        or Path(name).is_absolute()
        or Path(name).name != name
        or ":" in name
    ):
        raise UnsafeFileError(f"sharded-weights index names shard {name!r} outside its own folder")
    target = folder / name
    if target.is_symlink() and target.resolve().parent != folder.resolve():
        raise UnsafeFileError(f"shard {name!r} is a symbolic link out of the index's folder")
    if not target.exists():
        raise CorruptFileError(f"missing shard {name} (listed in the sharded-weights index)")
    require_regular(target, f"shard {name}")
    return target


class _Shards:
    """Open each shard once, on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, h5py.File] = {}

    def get(self, name: str) -> h5py.File:
        if name not in self.files:
            target = _check_shard_name(name, self.folder)
            self.files[name] = open_file(target, f"shard {name}")
        return self.files[name]

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


class ShardedReader(Reader):
    """``<base>.weights.json`` naming its shards."""

    name = ArtifactFormat.KERAS3_SHARDED

    def matches(self, probe: Probe) -> bool:
        return probe.kind == ContainerKind.JSON

    def disk_bytes(self, probe: Probe) -> int:
        """The index and every shard beside it share one shape-bomb budget."""
        siblings = (p for p in probe.path.parent.glob("*.h5") if p.is_file())
        return allocated_bytes(probe.path) + sum(allocated_bytes(p) for p in siblings)

    def read(self, probe: Probe) -> ReadResult:
        return _read_sharded(probe.path)


def _read_sharded(path: Path) -> ReadResult:
    index = _load_index(path)
    weight_map: dict[str, Any] = index["weight_map"]
    result = ReadResult(format=ArtifactFormat.KERAS3_SHARDED, groups=[])
    result.notes.append(
        "sharded Keras 3 weights carry no config: every cell is inferred from store paths and tensor shapes"
    )
    folder = path.parent
    shards = _Shards(folder)
    try:
        # Validate every name first, so a hostile entry is refused even if it is never needed.
        for key, value in weight_map.items():
            for name in _shard_names(key, value):
                _check_shard_name(name, folder)
        for key in sorted(weight_map):
            inner = key.strip("/")
            parts = inner.split("/")
            if parts[-1] != "vars" or ".." in parts or not inner:
                raise CorruptFileError(f"weight_map key {key!r} is not a '/.../vars' store path")
            owner = parts[:-1]
            if not owner or owner[0] in SKIP_TOP:
                continue
            tensors = _merged_tensors(shards, inner, _shard_names(key, weight_map[key]))
            if tensors:
                group = store_group(tensors, owner)
                group.binding = Binding("shapes", f"{inner} ({', '.join(_shard_names(key, weight_map[key]))})")
                result.groups.append(group)
    finally:
        shards.close()
    return result


def _merged_tensors(shards: _Shards, inner: str, names: list[str]) -> list[StoredTensor]:
    """The numbered datasets of ``inner`` over every shard that holds part of it, in order."""
    merged: dict[str, StoredTensor] = {}
    for name in names:
        group = child(shards.get(name), inner, f"{name}:{inner}")
        if group is None:
            raise CorruptFileError(f"shard {name} has no {inner} (listed in the sharded-weights index)")
        if not isinstance(group, h5py.Group):
            raise CorruptFileError(f"{name}:{inner} is not a group")
        for tensor in numbered_tensors(group, f"{name}:{inner}"):
            if tensor.name in merged:
                raise CorruptFileError(f"{inner}/{tensor.name} is stored in more than one shard")
            merged[tensor.name] = tensor
    return [merged[k] for k in sorted(merged, key=int)]
