"""The v3 weight store (``model.weights.h5``) as a tree of object groups, whatever wrote it.

Keras writes one group per saved object at its object path (``layers/lstm/cell``) holding a
``vars`` group of numbered datasets. tf-keras on Windows joins those paths with ``\\``, and HDF5
splits only on ``/``, so a Windows file has one root-level group per object whose *name* is the
whole path (``_layer_checkpoint_dependencies\\lstm\\cell``). :class:`V3Store` presents both as
the same tree of path components (docs/formats.md, "tf-keras 2.12–2.14 store names").
"""

from __future__ import annotations

import h5py

from ...errors import CorruptFileError
from .h5safe import child

VARS = "vars"


class V3Store:
    def __init__(self, h5: h5py.File, prefix: str = "") -> None:
        self.h5 = h5
        #: How paths are shown in messages (``model.weights.h5:`` inside a zip).
        self.prefix = prefix
        keys = list(h5.keys())
        #: True when the groups are named by backslash-joined object paths (a Windows save).
        self.windows = any("\\" in key for key in keys)
        self._objects: set[tuple[str, ...]] = set()
        self._data: list[tuple[str, ...]] | None = None
        self._prefixes: set[tuple[str, ...]] | None = None
        if self.windows:
            self._objects = {tuple(key.split("\\")) for key in keys if key != VARS}

    def _name(self, comps: tuple[str, ...]) -> str:
        return "\\".join(comps) if self.windows else "/".join(comps)

    def where(self, comps: tuple[str, ...]) -> str:
        """The printable path of an object's ``vars`` group."""
        inner = f"{self._name(comps)}/{VARS}" if comps else VARS
        return f"{self.prefix}{inner}"

    def children(self, comps: tuple[str, ...]) -> list[str]:
        """Names of the sub-objects stored below ``comps`` (in name order)."""
        if self.windows:
            depth = len(comps)
            return sorted({o[depth] for o in self._objects if len(o) > depth and o[:depth] == comps})
        group = child(self.h5, "/".join(comps), self.where(comps)) if comps else self.h5
        if not isinstance(group, h5py.Group):
            return []
        return sorted(key for key in group if key != VARS)

    def vars(self, comps: tuple[str, ...]) -> h5py.Group | None:
        """The object's ``vars`` group, or None when the object stored none."""
        if self.windows and comps:
            group = child(self.h5, self._name(comps), self.where(comps).rsplit("/", 1)[0])
            found = child(group, VARS, self.where(comps)) if isinstance(group, h5py.Group) else None
        else:
            found = child(self.h5, "/".join((*comps, VARS)), self.where(comps))
        return found if isinstance(found, h5py.Group) else None

    def holds_data(self, comps: tuple[str, ...]) -> bool:
        """Whether the object or anything below it stored a dataset (``layer.weights`` was not empty)."""
        if self._prefixes is None:  # every prefix of every data object, once: a lookup, not a scan
            self._prefixes = {path[:depth] for path in self.data_objects() for depth in range(len(path) + 1)}
        return comps in self._prefixes

    def data_objects(self) -> list[tuple[str, ...]]:
        """Every object whose ``vars`` holds datasets, in path order (computed once).

        Hard links could make the tree a graph: a group reached twice is refused.
        """
        if self._data is None:
            found: list[tuple[str, ...]] = []
            if self.windows:
                found = [o for o in sorted(self._objects) if (g := self.vars(o)) is not None and len(g)]
            else:
                self._walk(self.h5, (), found, set())
            root = self.vars(())
            self._data = ([()] if root is not None and len(root) else []) + found
        return self._data

    def _walk(self, group: h5py.Group, comps: tuple[str, ...], found: list[tuple[str, ...]], seen: set[int]) -> None:
        for key in sorted(group.keys()):
            path = (*comps, key)
            entry = child(group, key, self.prefix + "/".join(path))
            if not isinstance(entry, h5py.Group) or key == VARS:
                continue
            identity = hash(entry.id)  # h5py hashes (file, object address): hard links share it
            if identity in seen:
                raise CorruptFileError(f"group {self.where(path)} is reached twice (hard-link cycle or alias)")
            seen.add(identity)
            data = child(entry, VARS, self.where(path))
            if isinstance(data, h5py.Group) and len(data):
                found.append(path)
            self._walk(entry, path, found, seen)
