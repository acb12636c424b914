"""HDF5 datasets read on demand, where they lie: in a file, a window of a ``.keras`` zip, or a temporary file.

An :class:`H5Source` is one HDF5 image: a whole file, the bytes of a STORED zip member inside the
archive (``base``/``size``: never copied), or an anonymous temporary file a compressed member was
inflated into. Readers open it (:meth:`H5Source.open`) and walk it as before; every weight dataset
they meet becomes an :class:`H5Data` that reads its windows later (``kernelsplit.tensordata``).
A contiguous, unfiltered dataset is read with ``pread`` at its offset (one system call per window,
no HDF5 on the way; checked against an h5py read of its first row when it is made); any other one
through h5py, in windows aligned to its HDF5 chunks.

Handles are kept by ``readers/filesource.py`` (a bounded set, reopened on demand, refused when
the file changed). See docs/architecture.md, "Big models".
"""

from __future__ import annotations

import io
import os
import weakref
from typing import Any

import h5py
import numpy as np

from ...errors import CorruptFileError, KernelsplitError
from ...tensordata import Scratch, Window, hyperslab, plan_windows
from ..base import debugging, short_reason
from ..filesource import FileSource, lock, read_window

#: Datasets smaller than this are read whole while the reader holds them (one h5py read beats any
#: lazy path for small files), up to :data:`EAGER_BYTES` per source; larger ones are read lazily.
SMALL_BYTES = 64 << 10
#: The most bytes of small datasets one source keeps in memory (what a small file costs, bounded).
EAGER_BYTES = 16 << 20

#: HDF5 file id -> (the handle's id object, the source it was opened from), both weakly, so a
#: dataset finds its source; a handle given out by :meth:`H5Source.open` keeps its source alive
#: while it lives, the datasets read through it keep theirs. Dead entries are pruned.
_by_file: dict[int, tuple[weakref.ref[Any], weakref.ref[H5Source]]] = {}


class H5Source(FileSource):
    """One HDF5 image, reopened on demand (see the module docstring)."""

    #: The descriptor under the kept h5py handle (``self._held.handle``), checked before each use.
    _h5_fd: int = -1
    #: Bytes of small datasets read at open so far (see :meth:`keep_small`).
    _eager: int = 0

    @classmethod
    def of(cls, h5: h5py.File) -> H5Source | None:
        """The source a file handle was opened from (None for handles opened elsewhere)."""
        with lock():
            entry = _by_file.get(h5.id.id)
        if entry is None:
            return None
        handle, source = entry[0](), entry[1]()
        return source if handle is not None and handle.valid else None

    def keep_small(self, nbytes: int) -> bool:
        """Whether a dataset of ``nbytes`` is small enough to read now and keep (see :data:`SMALL_BYTES`)."""
        if nbytes >= SMALL_BYTES or self._eager + nbytes > EAGER_BYTES:
            return False
        self._eager += nbytes
        return True

    def open(self) -> h5py.File:
        """A new read-only h5py handle the caller closes; datasets read through it find this source."""
        h5, _ = self._open_h5()
        h5._kernelsplit_source = self  # the source lives while the caller holds the handle
        return h5

    def _open_h5(self) -> tuple[h5py.File, int]:
        """A new handle, and the descriptor it reads through."""
        if self._whole_file:
            self._check_unchanged()
            h5 = h5py.File(self.path, "r")
            fd = h5.id.get_vfd_handle()
        else:
            window = _Window(self._new_descriptor(), self.base, self.size)
            h5 = h5py.File(window, "r")
            fd = window.descriptor
        with lock():
            for key, (handle, _) in list(_by_file.items()):
                alive = handle()
                if alive is None or not alive.valid:
                    del _by_file[key]
            _by_file[h5.id.id] = (weakref.ref(h5.id), weakref.ref(self))
        return h5, fd

    def dataset(self, name: str) -> h5py.Dataset:
        """The dataset ``name`` through the kept handle (reopened when closed, checked when kept).

        The caller holds :func:`~kernelsplit.readers.filesource.lock` while it reads the dataset:
        another thread could otherwise close the handle under the read.
        """
        with lock():
            held = self._held
            if held.handle is None or not held.handle.id.valid:
                held.handle, self._h5_fd = self._open_h5()
            else:
                self._check_unchanged(os.fstat(self._h5_fd))
            self._touch()
            found = held.handle[name]
        if not isinstance(found, h5py.Dataset):
            raise CorruptFileError(f"{name} is no longer a dataset")
        return found


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

    @property
    def descriptor(self) -> int:
        return self._fd

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
        file_words = self._file_dtype if self._file_dtype.kind != "V" else self._words
        return read_window(self.source, self._offset, self._shape, file_words, window, scratch)

    def _h5_read(self, window: Window) -> np.ndarray:
        r0, r1, c0, c1 = window
        with lock():  # another thread's least-recently-used closing must wait for this read
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
    if nbytes < SMALL_BYTES:
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
