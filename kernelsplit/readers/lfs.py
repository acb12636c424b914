"""Git LFS pointer files: a checkout without ``git lfs pull`` holds these instead of the model.

A pointer is a few lines of text (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md):
``version https://git-lfs.github.com/spec/v1``, ``oid sha256:…``, ``size …``, under 1024 bytes.
Read as a model it is "not a model" at best, which a folder walk would skip: in CI that means the
artifact was never checked. So a read that fails looks for pointers where the artifact's bytes
should be (the file, the folder's files, a checkpoint's or a sharded index's siblings) and says so.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from ..errors import LfsPointerError

#: The spec's first line (``hawser`` is the pre-1.0 name of the same spec).
_PREFIXES = (b"version https://git-lfs.github.com/spec/", b"version https://hawser.github.com/spec/")
#: The spec caps pointer files at 1024 bytes.
_MAX_BYTES = 1024
#: Files a folder walk inspects at most when looking for pointers inside one artifact folder.
_MAX_FILES = 10_000
#: Names of files that hold (part of) a Keras or TF model: a pointer with such a name stands for a
#: model that was not pulled. Pointers with other names (datasets, images) are only skipped.
MODEL_FILE_NAME = re.compile(
    r"(\.(h5|hdf5|he5|keras|pb|pbtxt|index|ckpt|weights\.json)$)|(\.data-\d+-of-\d+$)|(^checkpoint$)", re.IGNORECASE
)

MESSAGE = "Git LFS pointer, not the model: run git lfs pull"


def is_lfs_pointer(path: Path) -> bool:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return False
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return head.startswith(_PREFIXES)


def _candidates(path: Path) -> list[Path]:
    """The files whose bytes reading ``path`` needs (or may need)."""
    if path.is_dir():
        return sorted(itertools.islice(path.rglob("*"), _MAX_FILES))
    folder = path.parent
    name = path.name
    if name.endswith(".weights.json"):  # sharded Keras 3 weights: <stem>_00000.weights.h5 ...
        stem = name[: -len(".weights.json")]
        return [path, *sorted(folder.glob(f"{_glob_escape(stem)}_*.weights.h5"))]
    if name.endswith(".index") or not path.exists():  # a TF checkpoint prefix and its data files
        prefix = name[: -len(".index")] if name.endswith(".index") else name
        return [path, *sorted(folder.glob(f"{_glob_escape(prefix)}.*"))]
    return [path]


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def raise_if_lfs_pointer(path: Path) -> None:
    """Raise :class:`LfsPointerError` when ``path`` is, or its artifact's bytes are, LFS pointers."""
    for candidate in _candidates(path):
        if is_lfs_pointer(candidate):
            if candidate == path:
                raise LfsPointerError(MESSAGE)
            where = candidate.relative_to(path).as_posix() if path.is_dir() else candidate.name
            raise LfsPointerError(f"{where} is a {MESSAGE}")
