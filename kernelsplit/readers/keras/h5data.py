"""HDF5 datasets read on demand, where they lie: in a file, a window of a ``.keras`` zip, or a temporary file.

An :class:`H5Source` is one HDF5 image: a whole file, the bytes of a STORED zip member inside the
archive (``base``/``size``: never copied), or an anonymous temporary file a compressed member was
inflated into. Readers open it (:meth:`H5Source.open`) and walk it as before; every weight dataset
they meet becomes an :class:`H5Data` that reads its windows later (``kernelsplit.tensordata``).
A contiguous, unfiltered dataset is read with ``pread`` at its offset (one system call per window,
no HDF5 on the way; checked against an h5py read of its first row when it is made); any other one
through h5py, in windows aligned to its HDF5 chunks.

Handles: at most :data:`MAX_OPEN` sources keep a file descriptor and an h5py handle open at a time
(least recently used closed first), so an artifact can outlive its reads and a batch never runs out
of descriptors. A source reopened later must be the same file (device, inode, size, mtime) or the
read is refused: numbers read then could not be those the digests were taken of.
See docs/architecture.md, "Big models".
"""

from __future__ import annotations

import atexit
import io
import os
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import h5py
import numpy as np

from ...errors import CorruptFileError, KernelsplitError
from ...tensordata import Scratch, Window, grid, hyperslab, plan_windows
from ..base import debugging, short_reason

#: At most this many sources hold an open descriptor and h5py handle between reads.
MAX_OPEN = 8
#: Datasets smaller than this are read through h5py in one piece (no offset check needed).
_PREAD_MIN_BYTES = 64 << 10

_lock = threading.RLock()
_open: OrderedDict[int, H5Source] = OrderedDict()
#: HDF5 file id -> (the handle's id object, while it lives; the source it was opened from), so a
#: dataset finds its source. The source lives as long as the entry; dead handles are pruned.
_by_file: dict[int, tuple[weakref.ref[Any], H5Source]] = {}


def _release_all() -> None:
    """Close every kept handle before the interpreter tears down (h5py's file-object driver
    must not call into a window object that is already gone)."""
    with _lock:
        for source in list(_open.values()):
            source.release()


atexit.register(_release_all)


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class H5Source:
    """One HDF5 image, reopened on demand (see the module docstring)."""

    def __init__(
        self,
        path: Path | None,
        *,
        base: int = 0,
        size: int | None = None,
        what: str = "",
        keep: IO[bytes] | None = None,
    ) -> None:
        self.path = path
        #: Where the image starts in the file (a STORED zip member's data offset).
        self.base = base
        #: Names the image in messages (``model.weights.h5`` inside a zip, a shard).
        self.what = what
        #: A temporary file holding the image: kept open as long as the source lives.
        self._keep = keep
        if path is not None:
            stat = os.stat(path)
            self._identity: tuple[int, int, int, int] | None = _identity(stat)
            whole = stat.st_size
        else:
            assert keep is not None
            self._identity = None
            whole = os.fstat(keep.fileno()).st_size
        self.size = whole - base if size is None else size
        self._whole_file = path is not None and base == 0 and self.size == whole
        self._fd: int | None = None
        self._h5: h5py.File | None = None

    @classmethod
    def of(cls, h5: h5py.File) -> H5Source | None:
        """The source a file handle was opened from (None for handles opened elsewhere)."""
        with _lock:
            entry = _by_file.get(h5.id.id)
        if entry is None:
            return None
        handle = entry[0]()
        return entry[1] if handle is not None and handle.valid else None

    # ------------------------------------------------------------------ handles the readers own

    def open(self) -> h5py.File:
        """A new read-only h5py handle the caller closes; datasets read through it find this source."""
        if self._whole_file:
            self._check_unchanged()
            h5 = h5py.File(self.path, "r")
        else:
            h5 = h5py.File(_Window(self._new_descriptor(), self.base, self.size), "r")
        with _lock:
            for key, (handle, _) in list(_by_file.items()):
                alive = handle()
                if alive is None or not alive.valid:
                    del _by_file[key]
            _by_file[h5.id.id] = (weakref.ref(h5.id), self)
        return h5

    # ---------------------------------------------------------- handles kept for on-demand reads

    def pread(self, offset: int, out: np.ndarray) -> None:
        """Fill ``out`` (a contiguous array) with the image's bytes from ``offset``."""
        view = out.data.cast("B")
        done = 0
        with _lock:  # another thread must not close the descriptor under the read
            fd = self._descriptor()
            while done < len(view):
                got = os.preadv(fd, [view[done:]], self.base + offset + done)
                if got <= 0:
                    raise CorruptFileError(
                        f"{self.what or self.path} ends inside a dataset (truncated, or changed since it was read)"
                    )
                done += got

    def dataset(self, name: str) -> h5py.Dataset:
        with _lock:
            if self._h5 is None or not self._h5.id.valid:
                self._h5 = self.open()
                self._touch()
            found = self._h5[name]
        if not isinstance(found, h5py.Dataset):
            raise CorruptFileError(f"{name} is no longer a dataset")
        return found

    def _descriptor(self) -> int:
        if self._fd is None:
            self._fd = self._new_descriptor()
        self._touch()
        return self._fd

    def _new_descriptor(self) -> int:
        if self._keep is not None:
            return os.dup(self._keep.fileno())
        assert self.path is not None
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            self._check_unchanged(os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _check_unchanged(self, stat: os.stat_result | None = None) -> None:
        if self.path is None or self._identity is None:
            return
        if _identity(stat or os.stat(self.path)) != self._identity:
            raise CorruptFileError(f"{self.path} changed on disk since it was read: its numbers are refused")

    def _touch(self) -> None:
        """Mark this source recently used; close the least recently used beyond :data:`MAX_OPEN`."""
        _open[id(self)] = self
        _open.move_to_end(id(self))
        while len(_open) > MAX_OPEN:
            _, oldest = _open.popitem(last=False)
            oldest.release()

    def release(self) -> None:
        """Close the kept descriptor and handle (reopened on the next read)."""
        with _lock:
            _open.pop(id(self), None)
            if self._h5 is not None:
                self._h5.close()
                self._h5 = None
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class _Window(io.RawIOBase):
    """A byte range of a file as a read-only file object (h5py's ``fileobj`` driver reads through it)."""

    def __init__(self, fd: int, base: int, size: int) -> None:
        super().__init__()
        self._fd = fd
        self._base = base
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._size - self._pos)
        if count <= 0:
            return 0
        got = os.preadv(self._fd, [view[:count]], self._base + self._pos)
        self._pos += got
        return got

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(start + offset, 0)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed and self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        super().close()


class H5Data:
    """One weight dataset, read in windows when needed (``kernelsplit.tensordata.TensorData``)."""

    def __init__(self, source: H5Source, dataset: h5py.Dataset, where: str, words: np.dtype) -> None:
        self.source = source
        self.name: str = dataset.name
        self.where = where
        self._shape = tuple(int(n) for n in dataset.shape)
        #: The words as h5py reads them (``|V2`` for bfloat16), and as the model sees them.
        self._file_dtype = dataset.dtype
        self._words = words
        chunks = dataset.chunks
        self._align = int(chunks[0]) if chunks and len(self._shape) >= 2 else 1
        self._offset = _contiguous_offset(dataset, source, words)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._words

    def windows(self, budget: int) -> list[Window]:
        return plan_windows(self._shape, self._words.itemsize, budget, self._align)

    def read(self, window: Window, scratch: Scratch | None = None) -> np.ndarray:
        try:
            words = self._pread(window, scratch) if self._offset is not None else self._h5_read(window)
        except KernelsplitError:
            raise
        except (OSError, RuntimeError, ValueError, TypeError, KeyError) as exc:
            if debugging():
                raise
            raise CorruptFileError(f"cannot read dataset {self.where}: {short_reason(exc)}") from None
        if words.dtype.byteorder == ">":
            words = words.astype(words.dtype.newbyteorder("<"))
        return words

    def _pread(self, window: Window, scratch: Scratch | None) -> np.ndarray:
        assert self._offset is not None
        r0, r1, c0, c1 = window
        cols = grid(self._shape)[1]
        itemsize = self._words.itemsize
        file_words = self._file_dtype if self._file_dtype.kind != "V" else self._words
        single = (c0, c1) == (0, cols) or r1 - r0 == 1  # one contiguous run of bytes
        shape = (r1 - r0, c1 - c0) if single else (r1 - r0, cols)
        out = scratch.array(shape, file_words) if scratch is not None else np.empty(shape, dtype=file_words)
        self.source.pread(self._offset + (r0 * cols + (c0 if single else 0)) * itemsize, out)
        return out if single else out[:, c0:c1]

    def _h5_read(self, window: Window) -> np.ndarray:
        r0, r1, c0, c1 = window
        dataset = self.source.dataset(self.name)
        words = np.asarray(dataset[hyperslab(self._shape, window)] if self._shape else dataset[()])
        if words.dtype.kind == "V":
            words = words.view(self._words)
        return words.reshape(r1 - r0, c1 - c0)


def _contiguous_offset(dataset: h5py.Dataset, source: H5Source, words: np.dtype) -> int | None:
    """Where a contiguous, unfiltered, allocated dataset's bytes start in the image, or None.

    Only when reading them raw gives what h5py gives: a stored type h5py reads without conversion,
    every byte inside the image, and the first row equal to h5py's read of it.
    """
    shape = tuple(int(n) for n in dataset.shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * words.itemsize if shape else 0
    if nbytes < _PREAD_MIN_BYTES:
        return None
    dsid = dataset.id
    if dsid.get_create_plist().get_layout() != h5py.h5d.CONTIGUOUS or dsid.get_storage_size() != nbytes:
        return None
    offset = dsid.get_offset()
    if offset is None or offset < 0 or offset + nbytes > source.size:
        return None
    stored = dsid.get_type()
    if stored.get_size() != words.itemsize:
        return None
    if dataset.dtype.kind != "V" and stored != h5py.h5t.py_create(dataset.dtype):
        return None  # a type HDF5 converts on read (e.g. a custom float): let h5py convert it
    first = (0,) * (len(shape) - 1) + (slice(0, min(shape[-1], 4096)),)
    expected = np.ascontiguousarray(np.asarray(dataset[first]))
    probe = np.empty(expected.size, dtype=expected.dtype)
    try:
        source.pread(offset, probe)
    except (OSError, KernelsplitError):
        return None
    return int(offset) if probe.tobytes() == expected.tobytes() else None
