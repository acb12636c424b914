"""Which artifacts a list of paths names: the one folder walk ``inspect`` and ``check`` share.

* A file named on the command line is always tried (``explicit``).
* A folder that is one artifact (SavedModel, unzipped ``.keras``, TF checkpoint folder) is one
  candidate; any other folder is walked recursively, in sorted order. Hidden folders,
  ``__pycache__`` and ``node_modules`` are not entered, nor are symbolic links to folders (a link
  can loop; each is listed as skipped), and artifact folders inside are candidates.
* In a walk (and for glob matches), a file is tried when its first bytes say HDF5 or zip, when it is
  a sharded-weights index, or when it is a Git LFS pointer with a model file's name (the read then
  reports the missing ``git lfs pull``). Everything else is *skipped*, and every skip is recorded
  with its reason: reports list them, nothing is passed over silently.
* A path that does not exist is tried too (a TF checkpoint prefix names no file) and fails as
  ``not-found``; a glob matching nothing and a named folder without a model file are candidates
  marked ``nothing`` for the command to judge.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

# The readers (numpy, h5py) are imported only when a folder or glob is walked: for named files the
# CLI process never needs them, its workers read the files (docs/architecture.md, "Isolation").

_GLOB_CHARS = set("*?[")
#: Folders a walk never enters (besides hidden ones).
EXCLUDED_FOLDERS = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True)
class Candidate:
    path: str
    #: Named on the command line (not found by a walk or a glob).
    explicit: bool
    #: Set when the path named nothing to read: a glob matching no file, or a named folder whose walk
    #: found no model file. ``inspect`` reports it as ``not-found``; ``check`` counts it as no input.
    nothing: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A file or folder a walk did not read as a model, and why."""

    path: str
    reason: str
    #: ``content``: not a model container by its first bytes; ``not-a-model``: read, and no reader
    #: recognised it; ``lfs-pointer``: a Git LFS pointer to a file that is not a model by name;
    #: ``special``: not a regular file, or a symbolic link to a folder; ``unreadable``; ``folder``:
    #: hidden or excluded, not entered.
    kind: str = "content"

    @property
    def notable(self) -> bool:
        """Worth a line of its own in human output (the rest is counted by reason)."""
        return self.kind not in ("content", "folder")


def skip_summary(skipped: list[Skipped]) -> tuple[list[Skipped], list[str]]:
    """(the notable skips, one line per other reason with its count): how human formats show skips."""
    counted: dict[tuple[bool, str], int] = {}
    for item in skipped:
        if not item.notable:
            key = (item.kind == "folder", item.reason)
            counted[key] = counted.get(key, 0) + 1
    lines = [
        f"skipped {n} {'folder' if folder else 'file'}{'s' if n != 1 else ''}: {reason}"
        for (folder, reason), n in counted.items()
    ]
    return [s for s in skipped if s.notable], lines


@dataclass
class Discovery:
    #: In the order of the paths given, each artifact once.
    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _walk(root: Path, found: Discovery) -> None:
    from .readers import is_artifact_dir

    if is_artifact_dir(root):
        found.candidates.append(Candidate(str(root), explicit=False))
        return
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        keep = []
        for name in sorted(dirs):
            if name.startswith("."):
                found.skipped.append(Skipped(str(here / name), "hidden folder (not entered)", "folder"))
            elif name in EXCLUDED_FOLDERS:
                found.skipped.append(Skipped(str(here / name), f"{name} folder (not entered)", "folder"))
            elif is_artifact_dir(here / name):
                found.candidates.append(Candidate(str(here / name), explicit=False))
            elif (here / name).is_symlink():  # os.walk does not enter it (no loops): say so
                found.skipped.append(Skipped(str(here / name), "symbolic link to a folder (not followed)", "special"))
            else:
                keep.append(name)
        dirs[:] = keep
        for name in sorted(files):
            _consider(here / name, found)


def _consider(path: Path, found: Discovery) -> None:
    from .readers import walk_verdict

    verdict = walk_verdict(path)
    if verdict is None:
        found.candidates.append(Candidate(str(path), explicit=False))
    else:
        kind, why = verdict
        found.skipped.append(Skipped(str(path), why, kind))


def discover(paths: tuple[str, ...] | list[str]) -> Discovery:
    """Candidates, missing paths and skipped files for ``paths``, each artifact once, in order."""
    found = Discovery()
    for raw in paths:
        path = Path(raw)
        if path.is_file() or (path.exists() and not path.is_dir()):
            found.candidates.append(Candidate(raw, explicit=True))
        elif path.is_dir():
            from .readers import is_artifact_dir

            if is_artifact_dir(path):
                found.candidates.append(Candidate(raw, explicit=True))
            else:
                before = len(found.candidates)
                _walk(path, found)
                if len(found.candidates) == before:
                    found.candidates.append(Candidate(raw, True, "no model file found in this folder"))
        elif _GLOB_CHARS & set(raw) and (matches := sorted(glob.glob(raw, recursive=True))):
            for match in matches:
                hit = Path(match)
                if hit.is_dir():
                    _walk(hit, found)
                else:
                    _consider(hit, found)
        elif _GLOB_CHARS & set(raw):
            found.candidates.append(Candidate(raw, False, "no file matches this pattern"))
        else:
            found.candidates.append(Candidate(raw, explicit=True))  # a TF checkpoint prefix, or not found
    seen: set[str] = set()
    unique = []
    for candidate in found.candidates:
        key = os.path.realpath(candidate.path)
        if key not in seen:
            seen.add(key)
            unique.append(candidate)
    found.candidates = unique
    return found
