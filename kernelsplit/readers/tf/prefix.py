"""Where a TF checkpoint is: the one place that turns what a user passes into a V2 prefix.

A V2 checkpoint is ``<prefix>.index`` + ``<prefix>.data-NNNNN-of-NNNNN``. Users pass the prefix
(``ckpt/ckpt``, which names no file), the ``.index`` file, a data file, or the folder (with a
``checkpoint`` state file, or exactly one ``*.index``). V1 checkpoints (``tf.train.Saver`` V1) are
recognised so that reading them says "unsupported" rather than "not a model".
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

from ...errors import NotAModelError, NotFoundError, UnsupportedError
from .sstable import FOOTER_SIZE, TABLE_MAGIC

V1_MESSAGE = (
    "TF V1 checkpoint (tf.train.Saver V1) is not supported: its tensor-slice format predates the "
    "TensorBundle; re-save it with TensorFlow 2 (tf.train.Checkpoint / model.save_weights)"
)
_CKPT_LINE = re.compile(r'^\s*model_checkpoint_path\s*:\s*"((?:[^"\\]|\\.)*)"\s*$', re.M)


def index_path(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".index")


def has_table_magic(path: Path) -> bool:
    """True when ``path`` is a file ending with the SSTable footer magic."""
    try:
        if not path.is_file() or path.stat().st_size < FOOTER_SIZE:
            return False
        with open(path, "rb") as handle:
            handle.seek(-8, os.SEEK_END)
            return bool(struct.unpack("<Q", handle.read(8))[0] == TABLE_MAGIC)
    except OSError:
        return False


def looks_like_v1(prefix: Path) -> bool:
    """A V1 (``tf.train.Saver`` V1) checkpoint: no ``.index``, and an SSTable at ``<prefix>`` or
    ``<prefix>-?????-of-?????`` (V1 files are SSTables of ``SavedTensorSlices``)."""
    if index_path(prefix).exists():
        return False
    if has_table_magic(prefix):
        return True
    parent = prefix.parent
    if not prefix.name or not parent.is_dir():
        return False
    pattern = re.compile(re.escape(prefix.name) + r"-\d{5}-of-\d{5}$")
    return any(pattern.match(p.name) and has_table_magic(p) for p in parent.iterdir())


def require_v2_index(prefix: Path) -> Path:
    """``<prefix>.index``, or UnsupportedError (a V1 checkpoint) / NotFoundError."""
    index = index_path(prefix)
    if not index.is_file():
        if looks_like_v1(prefix):
            raise UnsupportedError(f"{prefix}: {V1_MESSAGE}")
        raise NotFoundError(f"{index}: no checkpoint index")
    return index


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
    """Turn what a user may pass (prefix, ``x.index``, a data file, a folder with a ``checkpoint``
    file or a single ``*.index``) into a V2 checkpoint prefix."""
    path = Path(path)
    if path.name.endswith(".index") and path.is_file():
        return path.with_name(path.name[: -len(".index")])
    if ".data-" in path.name and path.is_file():
        return path.with_name(path.name[: path.name.index(".data-")])
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


def is_savedmodel_dir(path: str | os.PathLike[str]) -> bool:
    path = Path(path)
    return path.is_dir() and ((path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file())


def is_checkpoint_prefix(path: str | os.PathLike[str]) -> bool:
    """True for a V2 checkpoint prefix (``ckpt`` with ``ckpt.index``), its ``.index`` or data file,
    or a folder with a ``checkpoint`` file (or exactly one ``*.index``); V1 prefixes count too, so
    that reading them reports "unsupported". A SavedModel folder is not one."""
    path = Path(path)
    if is_savedmodel_dir(path):
        return False
    try:
        prefix = resolve_checkpoint_prefix(path)
    except (NotAModelError, UnsupportedError):
        return path.is_dir() and (path / "checkpoint").is_file()
    if index_path(prefix).is_file() or looks_like_v1(prefix):
        return True
    return path.is_dir() and (path / "checkpoint").is_file()
