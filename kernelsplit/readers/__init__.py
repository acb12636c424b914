"""Readers: one per file format, behind one interface, in one ordered registry.

``read(path)`` probes the path once (first bytes, folder entries, HDF5 root), hands the probe to
the first reader whose ``matches`` accepts it, and returns its :class:`ReadResult`. This is the
reader boundary: anything a hostile file makes a parser raise becomes a ``corrupt`` error here
(``KERNELSPLIT_DEBUG`` lets it through). Adding a format is adding one module and one line below.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CorruptFileError, KernelsplitError, NotAModelError, NotFoundError, TooLargeError
from .base import ContainerKind, Probe, Reader, ReadResult, debugging, read_budget, short_reason
from .keras.keras0 import Keras0Reader
from .keras.legacy_h5 import LegacyModelReader, LegacyWeightsReader
from .keras.sharded import ShardedReader
from .keras.v3 import KerasDirReader, KerasZipReader, V3WeightsReader
from .lfs import MODEL_FILE_NAME, is_lfs_pointer, raise_if_lfs_pointer
from .tf.checkpoint import CheckpointReader
from .tf.savedmodel import SavedModelReader

#: Tried in this order; the first that matches reads the file.
READERS: tuple[Reader, ...] = (
    KerasZipReader(),
    KerasDirReader(),
    SavedModelReader(),
    CheckpointReader(),
    LegacyModelReader(),
    LegacyWeightsReader(),
    Keras0Reader(),
    V3WeightsReader(),
    ShardedReader(),
)

_NO_READER = {
    ContainerKind.HDF5: "HDF5 file, but not a Keras model or weights file",
    ContainerKind.DIRECTORY: "a directory that is neither a SavedModel nor an unzipped .keras model",
}


def find_reader(probe: Probe) -> Reader:
    for reader in READERS:
        if reader.matches(probe):
            return reader
    if probe.kind == ContainerKind.MISSING:
        raise NotFoundError("no such file or directory")
    raise NotAModelError(_NO_READER.get(probe.kind, "not a Keras model: neither HDF5, a .keras zip, nor a SavedModel"))


def read(path: str | os.PathLike[str]) -> ReadResult:
    """Run the reader that fits the content of ``path`` (stored tensors and facts, undecided)."""
    try:
        return _read(Path(path))
    except KernelsplitError:
        raise_if_lfs_pointer(Path(path))  # a checkout without `git lfs pull` says so, whatever failed
        raise


def _read(path: Path) -> ReadResult:
    probe = Probe.of(path)
    try:
        reader = find_reader(probe)
        with read_budget(lambda: reader.disk_bytes(probe)):
            return reader.read(probe)
    except KernelsplitError:
        raise
    except RecursionError:
        if debugging():
            raise
        raise CorruptFileError("unreadable (structure nested too deeply or cyclic)") from None
    except MemoryError:
        raise TooLargeError("reading it needs more memory than there is (or than --max-memory allows)") from None
    except OSError as exc:  # h5py and zipfile report damaged bytes as OSError with a useful text
        if debugging():
            raise
        raise CorruptFileError(f"unreadable: damaged data ({short_reason(exc)})") from None
    except Exception:  # numpy and h5py raise a zoo of exceptions on hostile bytes: say what, not how
        if debugging():
            raise
        raise CorruptFileError(
            "unreadable: its structure is not one its format allows (KERNELSPLIT_DEBUG=1 shows where)"
        ) from None
    finally:
        probe.close()


def is_artifact_dir(path: Path) -> bool:
    """A folder that is one artifact (SavedModel, unzipped ``.keras``, TF checkpoint), not a tree."""
    if not path.is_dir():
        return False
    probe = Probe(path, ContainerKind.DIRECTORY)
    return any(reader.matches(probe) for reader in READERS)


def looks_like_model_file(path: Path) -> bool:
    """Cheap content test for folder walks: HDF5 (with user block) or zip magic, or a sharded index."""
    return walk_verdict(path) is None


def walk_verdict(path: Path) -> tuple[str, str] | None:
    """None when a folder walk must try to read ``path``; else (kind, why) it skips the file.

    Tried: HDF5 (with a user block) or zip content, a sharded-weights index, and Git LFS pointers
    with a model file's name (reading those reports the missing ``git lfs pull``). Kinds:
    ``content`` (not a model container), ``lfs-pointer`` (a pointer to a non-model file),
    ``special`` (not a regular file), ``unreadable``.
    """
    if path.is_symlink() and not path.exists():
        return "special", "broken symbolic link"
    if not path.is_file():
        return "special", "not a regular file (a FIFO, socket or device is never opened)"
    if is_lfs_pointer(path):
        if MODEL_FILE_NAME.search(path.name):
            return None
        return "lfs-pointer", "Git LFS pointer (not pulled) to a file that is not a model by its name"
    try:
        probe = Probe.of(path)
    except NotAModelError as exc:
        return "content", exc.message
    except (OSError, KernelsplitError) as exc:
        return "unreadable", f"cannot read: {exc}"
    if probe.kind in (ContainerKind.HDF5, ContainerKind.ZIP):
        return None
    if probe.kind == ContainerKind.JSON and path.name.endswith(".weights.json"):
        return None
    return "content", "neither HDF5, a zip, nor a sharded-weights index (by content)"


__all__ = [
    "READERS",
    "Probe",
    "ReadResult",
    "Reader",
    "find_reader",
    "is_artifact_dir",
    "looks_like_model_file",
    "read",
    "walk_verdict",
]
