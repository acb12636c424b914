"""The library entry point: ``kernelsplit.open(path)`` -> Artifact, format detected by content."""

from __future__ import annotations

import os
from pathlib import Path

from .analysis.split import build_layer
from .errors import CorruptFileError, KernelsplitError, NotAModelError, NotFoundError
from .model import Artifact
from .readers.base import ReadResult

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def sniff(path: Path) -> str:
    """What the file is, from its first bytes (and HDF5's possible user-block offsets).

    Only regular files are opened: a FIFO or device would block or never end.
    """
    if not path.is_file():
        raise NotAModelError("not a regular file (a FIFO, socket or device is never opened)")
    with path.open("rb") as handle:
        head = handle.read(8)
        if not head:
            raise NotAModelError("empty file")
        if head in (_HDF5_MAGIC,):
            return "hdf5"
        if head[:4] in _ZIP_MAGIC:
            return "zip"
        # HDF5 allows a user block of 512 * 2^k bytes before the superblock.
        offset = 512
        size = path.stat().st_size
        while offset + 8 <= size and offset <= 1 << 20:
            handle.seek(offset)
            if handle.read(8) == _HDF5_MAGIC:
                return "hdf5"
            offset *= 2
        if head.lstrip()[:1] in (b"{",):
            return "json"
    return "unknown"


def read(path: str | os.PathLike[str]) -> ReadResult:
    """Run the reader that fits the content of ``path`` (no splitting yet)."""
    from .readers.h5safe import read_budget

    target = Path(path)
    with read_budget(lambda: _disk_bytes(target)):
        return _dispatch(target)


def _disk_bytes(target: Path) -> int:
    """What the artifact occupies on disk: the file and its sibling shards, or the whole folder."""
    try:
        if target.is_file():
            size = target.stat().st_size
            if target.suffix == ".json":  # a sharded index: its shards sit beside it
                size += sum(p.stat().st_size for p in target.parent.glob("*.h5") if p.is_file())
            return size
        folder = target if target.is_dir() else target.parent
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    except OSError:
        return 0


def _dispatch(target: Path) -> ReadResult:
    if not target.exists():
        if Path(f"{target}.index").exists():  # a TF checkpoint prefix such as ckpt/ckpt
            return _read_checkpoint(target)
        raise NotFoundError("no such file or directory")
    if target.is_dir():
        return _read_dir(target)
    try:
        kind = sniff(target)
    except OSError as exc:
        raise NotFoundError(f"cannot read: {exc.strerror or exc}") from None
    if kind == "zip":
        from .readers.keras_v3 import read_keras_zip

        return read_keras_zip(target)
    if kind == "hdf5":
        return _read_hdf5(target)
    if kind == "json":
        from .readers.sharded import read_sharded

        return read_sharded(target)
    if target.name.endswith(".index") or target.with_suffix(".index").exists():
        return _read_checkpoint(target)
    raise NotAModelError("not a Keras model: neither HDF5, a .keras zip, nor a SavedModel")


def _read_hdf5(path: Path) -> ReadResult:
    from .readers import keras_v3, legacy_h5
    from .readers.h5safe import open_file

    with open_file(path) as h5:
        try:
            attrs = set(h5.attrs.keys())
            keys = set(h5.keys())
        except (OSError, RuntimeError, ValueError) as exc:
            raise CorruptFileError(f"truncated or corrupt HDF5 file ({_short(exc)})") from None
        if "model_config" in attrs:
            return legacy_h5.read_legacy(h5, full_model=True)
        if "layer_names" in attrs or "layer_names0" in attrs:
            return legacy_h5.read_legacy(h5, full_model=False)
        if "nb_layers" in attrs:
            return legacy_h5.read_keras0(h5)
        if keys & {"layers", "_layer_checkpoint_dependencies", "vars"}:
            return keras_v3.read_weights_h5(h5)
        if "model_weights" in keys:
            return legacy_h5.read_legacy(h5, full_model=True)
    raise NotAModelError("HDF5 file, but not a Keras model or weights file")


def dir_kind(path: Path) -> str | None:
    """``keras-dir``, ``savedmodel`` or ``tf-checkpoint`` for a folder that is one artifact."""
    if (path / "config.json").is_file() and (path / "metadata.json").is_file():
        return "keras-dir"
    if (path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file():
        return "savedmodel"
    if (path / "checkpoint").is_file():
        return "tf-checkpoint"
    return None


def _read_dir(path: Path) -> ReadResult:
    kind = dir_kind(path)
    if kind == "keras-dir":
        from .readers.keras_v3 import read_keras_dir

        return read_keras_dir(path)
    if kind == "savedmodel":
        from .readers.tf_saved import read_savedmodel_dir

        return read_savedmodel_dir(path)
    if kind == "tf-checkpoint":
        return _read_checkpoint(path)
    raise NotAModelError("a directory that is neither a SavedModel nor an unzipped .keras model")


def _read_checkpoint(path: Path) -> ReadResult:
    from .readers.tf_saved import read_checkpoint_path

    return read_checkpoint_path(path)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def open_artifact(path: str | os.PathLike[str]) -> Artifact:
    """Read ``path`` and split every recurrent cell. Raises KernelsplitError subclasses."""
    try:
        result = read(path)
    except KernelsplitError as exc:
        raise exc.at(str(path)) from None
    layers = [build_layer(record) for record in result.cells]
    return Artifact(
        path=str(path),
        format=result.format,
        keras_version=result.keras_version,
        backend=result.backend,
        layers=layers,
        executable_layers=result.executable_layers,
        notes=result.notes,
        total_layers=result.total_layers,
    )


def try_open(path: str | os.PathLike[str]) -> Artifact:
    """Like :func:`open_artifact` but never raises: failures land in ``Artifact.error``.

    Anything unexpected from a hostile file (h5py, numpy and a config of the wrong shape raise a
    zoo of exceptions) is reported as a corrupt file rather than crashing a batch run.
    """
    try:
        return open_artifact(path)
    except KernelsplitError as exc:
        return Artifact(path=str(path), format="unknown", error=exc.at(str(path)))
    except RecursionError:
        return Artifact(
            path=str(path),
            format="unknown",
            error=CorruptFileError("unreadable (structure nested too deeply or cyclic)", path=str(path)),
        )
    except Exception as exc:
        return Artifact(
            path=str(path),
            format="unknown",
            error=CorruptFileError(f"unreadable ({type(exc).__name__}: {_short(exc)})", path=str(path)),
        )
