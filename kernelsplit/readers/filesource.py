"""Bytes of a file read on demand by offset, through a bounded set of open descriptors.

A :class:`FileSource` is a file (or a byte range of one: a STORED zip member, or an anonymous
temporary file) that weights are read from after the reader is done. At most :data:`MAX_OPEN`
sources keep a descriptor (and, for HDF5, an h5py handle) open between reads, least recently used
closed first, so an artifact can outlive its reads and a batch never runs out of descriptors. The
set holds sources weakly: a source nobody uses any more is closed when it is collected (with the
temporary file it may own). Every read checks that the file is still the one read at first (device,
inode, size, mtime, ctime: ``fstat`` of the kept descriptor, or ``stat`` before a reopen), else it
is refused: numbers read then could not be those the digests were taken of. See
docs/architecture.md, "Big models".
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import CorruptFileError
from ..tensordata import Scratch, Window, grid

#: At most this many sources hold an open descriptor (and h5py handle) between reads.
MAX_OPEN = 8

_lock = threading.RLock()
#: Sources holding a descriptor (or handle), least recently used first; weakly, so a source
#: dropped by its artifact is collected (and closed) rather than kept open by this set.
_open: OrderedDict[int, weakref.ref[FileSource]] = OrderedDict()


def release_all() -> None:
    """Close every kept descriptor and handle (at exit, before h5py tears down: its file-object
    driver must not call into a window object that is already gone)."""
    with _lock:
        for ref in list(_open.values()):
            source = ref()
            if source is not None:
                source.release()
        _open.clear()


atexit.register(release_all)


def _identity(stat: os.stat_result) -> tuple[int, ...]:
    # ctime too: a rewrite that restores the mtime (``cp -p``, ``rsync -t``) still moves it.
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class _Held:
    """What a source keeps open between reads: a descriptor, and a handle on it (h5py's), if any.

    Apart from the source so that a finalizer can close it when the source is collected.
    """

    __slots__ = ("fd", "handle")

    def __init__(self) -> None:
        self.fd: int | None = None
        self.handle: Any = None

    def close(self) -> None:
        handle, self.handle = self.handle, None
        if handle is not None:
            handle.close()
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


def _collected(key: int, held: _Held) -> None:
    """A source was collected: forget it and close what it held."""
    with _lock:
        ref = _open.get(key)
        if ref is not None and ref() is None:
            del _open[key]
        held.close()


class FileSource:
    """A file, or ``size`` bytes of it from ``base``, read by offset (see the module docstring)."""

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
        #: Where the bytes start in the file (a STORED zip member's data offset).
        self.base = base
        #: Names the bytes in messages (``model.weights.h5`` inside a zip, a shard).
        self.what = what
        #: A temporary file holding the bytes: kept open as long as the source lives.
        self._keep = keep
        if path is not None:
            stat = os.stat(path)
            self._identity: tuple[int, ...] | None = _identity(stat)
            whole = stat.st_size
        else:
            assert keep is not None
            self._identity = None
            whole = os.fstat(keep.fileno()).st_size
        self.size = whole - base if size is None else size
        self._whole_file = path is not None and base == 0 and self.size == whole
        self._held = _Held()
        weakref.finalize(self, _collected, id(self), self._held)

    def pread(self, offset: int, out: np.ndarray) -> None:
        """Fill ``out`` (a contiguous array) with the bytes from ``offset``."""
        view = out.data.cast("B")
        done = 0
        with _lock:  # another thread must not close the descriptor under the read
            fd = self._descriptor()
            while done < len(view):
                got = os.preadv(fd, [view[done:]], self.base + offset + done)
                if got <= 0:
                    raise CorruptFileError(
                        f"{self.what or self.path} ends inside a tensor (truncated, or changed since it was read)"
                    )
                done += got

    def _descriptor(self) -> int:
        """The kept descriptor (opened when closed), checked to be the file first read: the caller holds the lock."""
        held = self._held
        if held.fd is None:
            held.fd = self._new_descriptor()
        else:
            self._check_unchanged(os.fstat(held.fd))
        self._touch()
        return held.fd

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
        key = id(self)
        known = _open.get(key)
        if known is None or known() is not self:  # (an id is reused only after its owner is gone)
            _open[key] = weakref.ref(self)
        _open.move_to_end(key)
        while len(_open) > MAX_OPEN:
            _, oldest = _open.popitem(last=False)
            source = oldest()
            if source is not None:
                source.release()

    def release(self) -> None:
        """Close the kept descriptor and handle (reopened on the next read)."""
        with _lock:
            _open.pop(id(self), None)
            self._held.close()


def read_window(
    source: FileSource,
    offset: int,
    shape: tuple[int, ...],
    words: np.dtype,
    window: Window,
    scratch: Scratch | None = None,
) -> np.ndarray:
    """A window of a C-ordered tensor stored at ``offset``: one ``pread`` (whole rows, or a piece
    of one row), or whole rows cut to the window's columns. In ``scratch`` when given."""
    r0, r1, c0, c1 = window
    cols = grid(shape)[1]
    single = (c0, c1) == (0, cols) or r1 - r0 == 1  # one contiguous run of bytes
    out_shape = (r1 - r0, c1 - c0) if single else (r1 - r0, cols)
    out = scratch.array(out_shape, words) if scratch is not None else np.empty(out_shape, dtype=words)
    source.pread(offset + (r0 * cols + (c0 if single else 0)) * words.itemsize, out)
    return out if single else out[:, c0:c1]


def lock() -> threading.RLock:
    """The lock that guards every source's kept handles."""
    return _lock
