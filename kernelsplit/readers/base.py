"""What every reader shares: the probe it matches on, the interface, and what it returns.

A reader states *what is stored*, never what it means: it hands over :class:`WeightGroup` s (the
tensors of one configured cell, or of one weight owner the file does not describe) with the facts
the file states about them. Deciding the cell kind, units, storage and maths is the one
classification step in ``analysis/classify.py``. See docs/architecture.md.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import CorruptFileError, NotAModelError, NotFoundError, UnsafeFileError
from ..maths import Generation
from ..model import ArtifactFormat, Binding
from ..tensordata import ArrayData, TensorData, decode, grid, stored_words

if TYPE_CHECKING:
    import h5py


class StoredTensor:
    """One tensor as stored in the file, its numbers read on demand through ``data``.

    Readers of files pass ``data`` (:class:`~kernelsplit.tensordata.TensorData`, e.g. an HDF5
    dataset that is read only when the streaming pass or a consumer needs it); tensors already in
    memory pass ``array`` (and, for bfloat16, the stored words as ``raw``).
    """

    def __init__(
        self,
        array: np.ndarray | None = None,
        source: str = "",
        dtype: str = "",
        raw: np.ndarray | None = None,
        name: str = "",
        *,
        data: TensorData | None = None,
    ) -> None:
        if data is None:
            if array is None and raw is None:
                raise ValueError("StoredTensor needs an array or data")
            data = ArrayData(raw if raw is not None else stored_words(np.asarray(array), dtype))
        self.data = data
        #: Path of the tensor inside the file (dataset path, zip member + dataset, checkpoint key).
        self.source = source
        #: Stored dtype name; ``bfloat16`` words are decoded to float32 values.
        self.dtype = dtype or str(data.dtype)
        #: The name Keras gave the weight (hint only: names are not reliable).
        self.name = name

    def __repr__(self) -> str:
        return f"StoredTensor({self.source!r}, {self.dtype}, shape={self.shape})"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.data.shape)

    @property
    def ndim(self) -> int:
        return len(self.data.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def array(self) -> np.ndarray:
        """The whole tensor's values, read now (bfloat16 decoded to float32)."""
        return decode(self._words(), self.dtype)

    def _words(self) -> np.ndarray:
        rows, cols = grid(self.shape)
        return self.data.read((0, rows, 0, cols)).reshape(self.shape)


@dataclass(frozen=True)
class LayerDescription:
    """What a stored config says about one recurrent cell."""

    #: The class as reported: ``LSTM``, ``CuDNNGRU``, ``RNN(LSTMCell)`` for a cell inside ``RNN``.
    class_name: str
    #: The class whose weights these are: ``LSTMCell`` for ``RNN(LSTMCell)``, else ``class_name``.
    cell_class: str
    #: The config keys that change the maths (units, activations, reset_after, go_backwards, ...).
    hyper: dict[str, Any]
    #: The stored layer's own name (for a Bidirectional direction: the wrapped layer's name as the
    #: config stores it, e.g. ``gru1`` or, from Keras 3, ``forward_gru1``); empty when unknown.
    keras_name: str = ""


@dataclass
class WeightGroup:
    """Tensors a reader found together, in stored order, with what the file says about them.

    With a ``description`` the group is exactly one cell. Without one (weights-only files, or a
    config that does not account for the stored tensors) it is one weight owner's tensors, and the
    classification step finds the cells in it by their shapes.
    """

    name: str
    tensors: list[StoredTensor]
    description: LayerDescription | None = None
    direction: str | None = None
    #: A class guessed from where the tensors are stored (a v3 store path ``layers/gru_1``).
    class_hint: str | None = None
    #: Where that hint came from, for the note that says so.
    hint_source: str | None = None
    notes: list[str] = field(default_factory=list)
    binding: Binding | None = None


@dataclass
class ReadResult:
    """A reader's whole answer for one file."""

    format: ArtifactFormat
    groups: list[WeightGroup]
    keras_version: str | None = None
    backend: str | None = None
    executable_layers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    total_layers: int | None = None
    #: The Keras lineage that wrote the file, when the format itself tells (a TF 1.9-1.13
    #: checkpoint's object configs can only come from tf.keras) and ``keras_version`` does not.
    written_by: Generation | None = None


# ----------------------------------------------------------------------------------------- probe


class ContainerKind(str, Enum):
    HDF5 = "hdf5"
    ZIP = "zip"
    JSON = "json"
    DIRECTORY = "directory"
    #: Nothing at the path (a TF checkpoint prefix such as ``ckpt/ckpt`` names no file itself).
    MISSING = "missing"
    OTHER = "other"


_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def special_kind(mode: int) -> str | None:
    """What a non-regular file is (``a FIFO (named pipe)``), or None for a regular file."""
    import stat

    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def require_regular(path: Path, what: str = "") -> None:
    """Refuse anything but a regular file *before* opening it: opening a FIFO blocks forever, a device
    never ends. ``what`` names a file inside an artifact (``model.weights.h5``, ``shard x``): such a
    member is ``unsafe`` (the artifact is a model with a trap in it); a path given directly is
    ``not-a-model`` (``check`` lists it as skipped, saying what it is)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise NotFoundError(f"{what + ': ' if what else ''}cannot read: {exc.strerror or exc}") from None
    kind = special_kind(mode)
    if kind is not None and what:  # inside an artifact: the model is there, its member is a trap
        raise UnsafeFileError(f"{what} is {kind}, not a regular file (never opened)")
    if kind is not None:
        raise NotAModelError(f"{kind}, not a regular file (never opened)")


def sniff(path: Path) -> ContainerKind:
    """What a regular file is, from its first bytes (and HDF5's possible user-block offsets).

    Only regular files are opened: a FIFO or device would block or never end.
    """
    require_regular(path)
    with path.open("rb") as handle:
        head = handle.read(8)
        if not head:
            raise NotAModelError("empty file")
        if head == _HDF5_MAGIC:
            return ContainerKind.HDF5
        if head[:4] in _ZIP_MAGIC:
            return ContainerKind.ZIP
        # HDF5 allows a user block of 512 * 2^k bytes before the superblock.
        offset = 512
        size = path.stat().st_size
        while offset + 8 <= size and offset <= 1 << 20:
            handle.seek(offset)
            if handle.read(8) == _HDF5_MAGIC:
                return ContainerKind.HDF5
            offset *= 2
        if head.lstrip()[:1] == b"{":
            return ContainerKind.JSON
    return ContainerKind.OTHER


@dataclass
class Probe:
    """What a path is, worked out once and shared by every reader's ``matches``.

    For HDF5 files the file is opened once, here, and the matching reader reads from the same
    handle (:meth:`hdf5`); :meth:`close` releases it.
    """

    path: Path
    kind: ContainerKind
    _hdf5: h5py.File | None = field(default=None, repr=False)
    _root: tuple[frozenset[str], frozenset[str]] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, path: Path) -> Probe:
        if not path.exists():
            return cls(path, ContainerKind.MISSING)
        if path.is_dir():
            return cls(path, ContainerKind.DIRECTORY)
        try:
            kind = sniff(path)
        except OSError as exc:
            raise NotFoundError(f"cannot read: {exc.strerror or exc}") from None
        return cls(path, kind)

    def has_file(self, name: str) -> bool:
        """For a folder: does it hold a regular file ``name``?"""
        return self.kind == ContainerKind.DIRECTORY and (self.path / name).is_file()

    def has_entry(self, name: str) -> bool:
        """For a folder: does it hold ``name`` as anything but a folder (a FIFO posing as a member is
        then refused by name when read, instead of the folder being walked past)?"""
        if self.kind != ContainerKind.DIRECTORY:
            return False
        target = self.path / name
        return os.path.lexists(target) and not target.is_dir()

    def hdf5(self) -> h5py.File:
        """The HDF5 file, opened read-only once (refusing links and virtual data: h5safe)."""
        if self._hdf5 is None:
            from .keras.h5safe import open_file

            self._hdf5 = open_file(self.path)
        return self._hdf5

    def hdf5_root(self) -> tuple[frozenset[str], frozenset[str]]:
        """(root attribute names, top-level member names) of an HDF5 file."""
        if self._root is None:
            h5 = self.hdf5()
            try:
                self._root = (frozenset(h5.attrs.keys()), frozenset(h5.keys()))
            except (OSError, RuntimeError, ValueError) as exc:
                raise CorruptFileError(f"truncated or corrupt HDF5 file ({short_reason(exc)})") from None
        return self._root

    def close(self) -> None:
        if self._hdf5 is not None:
            self._hdf5.close()
            self._hdf5 = None


#: The most JSON (a config.json, a model_config attribute, a shard index) kernelsplit parses.
MAX_JSON_BYTES = 64 << 20


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    from ..errors import AmbiguousFileError

    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise AmbiguousFileError(
            f"key {twice!r} appears twice in one JSON object: readers keeping the first or the last "
            "would see different models"
        )
    return result


def load_json(data: bytes | str, what: str) -> Any:
    """JSON from a file: ``json.loads`` only, at most :data:`MAX_JSON_BYTES`, duplicate keys refused.

    Python keeps the last of two equal keys, other parsers the first: a file relying on that shows
    one model to kernelsplit and another to Keras, so it is ``ambiguous``, never read.
    """
    import json

    from ..errors import AmbiguousFileError, TooLargeError

    if len(data) > MAX_JSON_BYTES:
        raise TooLargeError(f"{what} is {len(data)} bytes of JSON, more than the {MAX_JSON_BYTES >> 20} MiB read")
    try:
        return json.loads(data, object_pairs_hook=_unique_keys)
    except AmbiguousFileError as exc:
        raise AmbiguousFileError(f"{what}: {exc.message}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptFileError(f"{what} is not valid JSON: {short_reason(exc)}") from None
    except RecursionError:
        raise CorruptFileError(f"{what} is nested too deeply") from None


def read_member(path: Path, what: str, limit: int) -> bytes:
    """A small file inside an artifact (a ``config.json``, an index): regular, at most ``limit`` bytes."""
    from ..errors import TooLargeError

    require_regular(path, what)
    size = path.stat().st_size
    if size > limit:
        raise TooLargeError(f"{what} is {size} bytes, more than the {limit >> 20} MiB kernelsplit reads")
    with path.open("rb") as handle:
        return handle.read(limit + 1)[:limit]


def listing(items: list[str], limit: int = 10) -> str:
    """``a; b; c`` for an error message, at most ``limit`` items (a file may name thousands)."""
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def short_reason(exc: BaseException) -> str:
    """The first line of an exception's text, at most 200 characters."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


# ----------------------------------------------------------------------------------------- reader


class Reader:
    """One file format. Readers live in an ordered registry (``kernelsplit.readers.READERS``);
    the first whose :meth:`matches` accepts the probe reads the file."""

    #: The format name reported for what this reader reads.
    name: ClassVar[str]

    def matches(self, probe: Probe) -> bool:
        raise NotImplementedError

    def read(self, probe: Probe) -> ReadResult:
        raise NotImplementedError

    def disk_bytes(self, probe: Probe) -> int:
        """What the artifact occupies on disk (sizes the shape-bomb budget): the file, or the folder."""
        target = probe.path
        if target.is_file():
            return allocated_bytes(target)
        folder = target if target.is_dir() else target.parent
        return folder_bytes(folder)


def allocated_bytes(path: Path) -> int:
    """Bytes of ``path`` really on disk: a sparse file's holes (a file "extended" to 8 GiB that uses
    none of it) buy no budget. ``st_blocks`` counts 512-byte units; a filesystem that reports none
    for a non-empty file (some network and FUSE mounts) is taken at its size."""
    info = path.stat()
    blocks: int = getattr(info, "st_blocks", 0)
    if not blocks:
        return info.st_size
    return min(info.st_size, blocks * 512)


#: Folders walked for their size stop counting here (a tree of a million files is not one model).
_MAX_FOLDER_ENTRIES = 100_000


def folder_bytes(folder: Path) -> int:
    total = 0
    for count, entry in enumerate(folder.rglob("*")):
        if count >= _MAX_FOLDER_ENTRIES:
            from ..errors import TooLargeError

            raise TooLargeError(f"folder of more than {_MAX_FOLDER_ENTRIES} entries: not one model")
        if entry.is_file():
            total += allocated_bytes(entry)
    return total


# ------------------------------------------------------------------------------------ read budget

#: Shape-bomb guard: all datasets read for one artifact may declare at most this multiple of the
#: artifact's size on disk (the .keras zip, all shards, the folder), plus a slack for tiny files.
#: Keras writes weights uncompressed (ratio 1), so only a crafted file (unallocated or gzip'ed-zero
#: datasets) comes near it.
_BUDGET_RATIO = 16
_BUDGET_SLACK = 64 << 20


def budget_for(disk_bytes: int) -> int:
    """The declared bytes an artifact of ``disk_bytes`` on disk may read."""
    return _BUDGET_RATIO * disk_bytes + _BUDGET_SLACK


@dataclass
class ReadBudget:
    #: The artifact's bytes on disk, measured only once a dataset is actually read.
    disk_bytes: Callable[[], int]
    limit: int | None = None
    spent: int = 0

    #: Stored objects already read: each may be read once per artifact (see :func:`charge`).
    seen: set[Any] = field(default_factory=set)

    def charge(self, declared: int, where: str, identity: Any = None) -> None:
        if identity is not None:
            if identity in self.seen:
                from ..errors import AmbiguousFileError

                raise AmbiguousFileError(
                    f"dataset {where} is listed for more than one weight (each stored tensor is one weight)"
                )
            self.seen.add(identity)
        if self.limit is None:
            self.limit = budget_for(self.disk_bytes())
        self.spent += declared
        if self.spent > self.limit:
            raise UnsafeFileError(
                f"dataset {where} brings the declared weights to {self.spent} bytes, "
                f"past {self.limit} for this artifact's size (refused as a shape bomb)"
            )


_budget: ContextVar[ReadBudget | None] = ContextVar("kernelsplit_read_budget", default=None)


@contextmanager
def read_budget(disk_bytes: Callable[[], int]) -> Iterator[None]:
    """Every dataset read inside shares one budget sized from the artifact's bytes on disk."""
    token = _budget.set(ReadBudget(disk_bytes))
    try:
        yield
    finally:
        _budget.reset(token)


def charge(declared: int, where: str, file_size: Callable[[], int], identity: Any = None) -> None:
    """Charge a dataset's declared bytes to the artifact's budget (or, outside one, to its file).

    ``identity`` (the stored object's address) makes a second read of the same object an error: a
    file listing one group a million times must not cost a million reads.
    """
    budget = _budget.get() or ReadBudget(file_size)
    budget.charge(declared, where, identity)


def debugging() -> bool:
    """``KERNELSPLIT_DEBUG`` set: let unexpected exceptions through with their traceback."""
    return bool(os.environ.get("KERNELSPLIT_DEBUG"))
