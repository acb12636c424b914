"""Stored tensors read on demand, and the one streaming pass that gives every gate block its digest and statistics.

A reader hands over each stored tensor as :class:`TensorData`: its shape, the dtype of its stored
*words* (little-endian; bfloat16 as its raw ``uint16`` words) and a way to read any window of it,
seen as a 2-D grid of ``rows = prod(shape[:-1])`` by ``cols = shape[-1]``. Gate blocks are cuts of
that grid (:class:`Cut`): a column range over a row range, optionally re-laid out afterwards
(CuDNN, Keras 1 ``th``). The :class:`BlockSet` of one stored tensor reads it once, in bounded
windows of whole rows (:data:`WINDOW_BYTES`), and feeds every block's sha256 and statistics
accumulator from each window; hashing runs on a background thread (hashlib releases the GIL), so
it overlaps with reading and statistics on another core. Nothing here converts a whole tensor to
float64: each window is, then dropped. See docs/architecture.md, "Big models".
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import queue

#: Bytes of stored words read per window: whole rows up to this size (a single row that is wider
#: is read in column ranges of this size). 1 MiB keeps a window and its float64 copy in cache.
#: A chunked HDF5 dataset is read in bands of whole chunk rows, which can be larger (one band).
WINDOW_BYTES = 1 << 20
#: Blocks at least this large are hashed on the background thread, smaller ones inline.
_THREAD_HASH_BYTES = 1 << 20
#: At most this many windows wait for the hashing thread (bounds the memory in flight).
_HASH_BACKLOG = 16
#: float64 weights near 1e200 would overflow sums of squares: statistics rescale above this.
RESCALE_ABOVE = 1e100

Window = tuple[int, int, int, int]  #: ``(row_start, row_stop, col_start, col_stop)`` of the grid


def grid(shape: tuple[int, ...]) -> tuple[int, int]:
    """The 2-D grid a tensor is read as: ``(prod(shape[:-1]), shape[-1])``; a 1-D tensor is one row."""
    if not shape:
        return 1, 1
    return math.prod(shape[:-1]), shape[-1]


class Scratch:
    """A buffer reused from window to window (fresh memory costs a page fault per 4 KiB)."""

    def __init__(self) -> None:
        self._buffer = np.empty(0, dtype=np.uint8)

    def array(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """An uninitialised C-contiguous array over the buffer (grown when needed)."""
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if self._buffer.size < nbytes:
            self._buffer = np.empty(max(nbytes, 2 * self._buffer.size), dtype=np.uint8)
        return self._buffer[:nbytes].view(dtype).reshape(shape)


_scratch = threading.local()


def scratch(name: str) -> Scratch:
    """This thread's scratch buffer ``name`` (each thread has its own)."""
    found = getattr(_scratch, name, None)
    if found is None:
        found = Scratch()
        setattr(_scratch, name, found)
    return found


class TensorData(Protocol):
    """The stored words of one tensor, read on demand (readers implement it; :class:`ArrayData` in memory)."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the words :meth:`read` returns (little-endian or single-byte; ``uint16`` for bfloat16)."""
        ...

    def read(self, window: Window, scratch: Scratch | None = None) -> np.ndarray:
        """The 2-D words of ``window``. Without ``scratch``, never a view of memory written later;
        with it, possibly a view of ``scratch``'s buffer, valid until the scratch is used again."""
        ...

    def windows(self, budget: int) -> list[Window]:
        """How to read the whole grid in bounded pieces, in C order (see :func:`plan_windows`)."""
        ...


def plan_windows(shape: tuple[int, ...], itemsize: int, budget: int = WINDOW_BYTES, align: int = 1) -> list[Window]:
    """Windows covering the grid in C order, each about ``budget`` bytes.

    Rows are taken in runs that are one hyperslab of the N-D shape (whole sub-arrays of one axis,
    every outer index fixed), so any reader can serve them with one read; a run's length is a
    multiple of ``align`` rows (HDF5 chunk rows) where that fits the axis. A row wider than
    ``budget`` is read in column ranges.
    """
    rows, cols = grid(shape)
    if rows == 0 or cols == 0:
        return []
    row_bytes = max(cols * itemsize, 1)
    if row_bytes > budget:
        step = max(budget // itemsize, 1)
        return [(r, r + 1, c, min(c + step, cols)) for r in range(rows) for c in range(0, cols, step)]
    per = max(budget // row_bytes, 1)
    lead = shape[:-1]
    # The outermost axis whose sub-arrays (``stride`` rows each) fit a window; runs are along it.
    axis, stride = 0, rows
    for axis in range(len(lead)):
        stride = math.prod(lead[axis + 1 :])
        if stride <= per:
            break
    if not lead:
        return [(0, 1, 0, cols)]
    extent = lead[axis]
    step = max(per // stride, 1)
    if align > 1 and axis == 0:
        step = max(step // align, 1) * align
    windows = []
    outer = rows // (extent * stride)
    for block in range(outer):
        base = block * extent * stride
        for start in range(0, extent, step):
            stop = min(start + step, extent)
            windows.append((base + start * stride, base + stop * stride, 0, cols))
    return windows


def hyperslab(shape: tuple[int, ...], window: Window) -> tuple[int | slice, ...]:
    """The N-D index of a window :func:`plan_windows` made (or any single-row window)."""
    r0, r1, c0, c1 = window
    lead = shape[:-1]
    if not lead:
        return (slice(c0, c1),) if shape else ()
    if r1 - r0 == 1:
        return (*(int(i) for i in np.unravel_index(r0, lead)), slice(c0, c1))
    for axis in range(len(lead)):
        stride = math.prod(lead[axis + 1 :])
        span = lead[axis] * stride
        if r0 // span == (r1 - 1) // span and r0 % stride == 0 and (r1 - r0) % stride == 0:
            outer = np.unravel_index(r0 // span, lead[:axis]) if axis else ()
            first = (r0 % span) // stride
            rest = (slice(None),) * (len(lead) - axis - 1)
            return (*(int(i) for i in outer), slice(first, first + (r1 - r0) // stride), *rest, slice(c0, c1))
    raise ValueError(f"window {window} is not one hyperslab of {shape}")


class ArrayData:
    """A tensor already in memory (tests, TF checkpoints): windows are views of it."""

    def __init__(self, words: np.ndarray) -> None:
        words = np.asarray(words)
        if words.dtype.byteorder == ">":
            words = words.astype(words.dtype.newbyteorder("<"))
        self.words = words
        self._grid = words.reshape(grid(words.shape))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.words.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.words.dtype

    def read(self, window: Window, scratch: Scratch | None = None) -> np.ndarray:
        r0, r1, c0, c1 = window
        return self._grid[r0:r1, c0:c1]

    def windows(self, budget: int) -> list[Window]:
        return plan_windows(self.shape, self.dtype.itemsize, budget)


def stored_words(array: np.ndarray, dtype: str) -> np.ndarray:
    """The stored words of an array in memory: bfloat16 numbers given as float32 become their
    ``uint16`` words (exact: a bfloat16 number is the top half of its float32); others as they are."""
    array = np.asarray(array)
    if dtype == "bfloat16" and array.dtype != np.uint16:
        words: np.ndarray = (np.ascontiguousarray(array, dtype="<f4").view("<u4") >> np.uint32(16)).astype("<u2")
        return words
    return array


def decode(words: np.ndarray, dtype: str) -> np.ndarray:
    """Values of stored words: bfloat16 words become the float32 with the same top 16 bits; others as they are."""
    if dtype == "bfloat16":
        values: np.ndarray = (words.astype("<u4") << np.uint32(16)).view("<f4")
        return values
    return words


# ------------------------------------------------------------------------------------ statistics


@dataclass(frozen=True)
class TensorStats:
    """Statistics of one block over its finite values; NaN and Inf are counted, not propagated.

    ``min`` ... ``l2`` are None when the block holds no finite value; ``zeros`` is the share of
    exact zeros among all values.
    """

    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    abs_max: float | None
    l2: float | None
    zeros: float
    nan: int
    inf: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {name: getattr(self, name) for name in _STATS_FIELDS}  # dataclasses.asdict deep-copies: slow

    @classmethod
    def of(cls, array: np.ndarray) -> TensorStats:
        """The whole-array computation (the streaming pass equals it within 1e-12 relative).

        min/max/mean/std/abs_max/l2 over the finite values; ``zeros`` is the share of exact zeros.
        NaN and Inf are counted, not propagated, so one bad weight does not hide the rest. numpy's
        warnings for them (a signalling NaN's cast, float64 extremes) are expected: silenced.
        """
        with np.errstate(all="ignore"):
            return cls._of(array)

    @classmethod
    def _of(cls, array: np.ndarray) -> TensorStats:
        values = np.asarray(array, dtype=np.float64).reshape(-1)
        size = values.size
        finite_mask = np.isfinite(values)
        nan = int(np.isnan(values).sum())
        inf = int(size - nan - int(finite_mask.sum()))
        finite = values if nan == 0 and inf == 0 else values[finite_mask]
        if finite.size == 0:
            return cls(None, None, None, None, None, None, zeros=0.0, nan=nan, inf=inf)
        low = float(finite.min())
        high = float(finite.max())
        abs_max = max(abs(low), abs(high))
        # float64 weights near 1e200 would overflow sums of squares: compute on a rescaled copy.
        scale = abs_max if abs_max > RESCALE_ABOVE else 1.0
        scaled = finite / scale if scale != 1.0 else finite
        return cls(
            min=low,
            max=high,
            mean=float(scaled.mean()) * scale,
            std=float(scaled.std()) * scale,
            abs_max=abs_max,
            l2=float(np.sqrt(np.dot(scaled, scaled))) * scale,
            zeros=float(np.count_nonzero(finite == 0.0)) / size,
            nan=nan,
            inf=inf,
        )


_STATS_FIELDS = tuple(f.name for f in fields(TensorStats))


class StatsAccumulator:
    """:meth:`TensorStats.of` over a tensor fed in pieces, in float64, without holding it.

    Sums are combined exactly (``math.fsum``); the spread is merged with Chan et al.'s pairwise
    update (per piece: its mean and the sum of squared deviations from it), which stays exact for
    constant data where E[x²] - E[x]² would cancel. Values above :data:`RESCALE_ABOVE` need a second
    pass with ``scale`` (the block's abs max) as :meth:`TensorStats.of` rescales them.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.size = 0
        self.nan = 0
        self.inf = 0
        self.zeros = 0
        self.count = 0  # finite values
        self.low = math.inf
        self.high = -math.inf
        self.sums: list[float] = []
        self.squares: list[float] = []
        self.mean = 0.0  # running mean of the scaled finite values (for the spread)
        self.m2 = 0.0

    def add(self, values: np.ndarray) -> None:
        """Feed one piece (any shape; strided views are fine)."""
        size = values.size
        self.size += size
        if not size:
            return
        # Vector reductions stay in numpy's own loops (pairwise sums): a BLAS dot would be no more
        # exact and, multithreaded on a busy machine, a hundred times slower.
        with np.errstate(all="ignore"):
            x = _float64_copy(values).reshape(-1)
            total = float(np.add.reduce(x))
            native = values if values.dtype in (np.float32, np.float64) else x  # min/max/== exact in both
            if not math.isfinite(total):  # NaN or Inf among the values (or float64 overflow)
                mask = np.isfinite(x)
                nan = int(np.count_nonzero(np.isnan(x)))
                kept = int(np.count_nonzero(mask))
                self.nan += nan
                self.inf += size - nan - kept
                if not kept:
                    return
                x = native = x[mask]
            self.low = min(self.low, float(native.min()))
            self.high = max(self.high, float(native.max()))
            self.zeros += int(np.count_nonzero(native == 0))
            if self.scale != 1.0:
                np.divide(x, self.scale, out=x)
            total = float(np.add.reduce(x))
            count = x.size
            mean = total / count
            np.subtract(x, mean, out=x)
            np.square(x, out=x)
            m2 = float(np.add.reduce(x))
        self.sums.append(total)
        self.squares.append(m2 + count * mean * mean)
        merged = self.count + count
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.count * count / merged
        self.mean += delta * count / merged
        self.count = merged

    @property
    def abs_max(self) -> float | None:
        return max(abs(self.low), abs(self.high)) if self.count else None

    def result(self) -> TensorStats:
        if not self.count:
            return TensorStats(None, None, None, None, None, None, zeros=0.0, nan=self.nan, inf=self.inf)
        scale = self.scale
        return TensorStats(
            min=self.low,
            max=self.high,
            mean=math.fsum(self.sums) / self.count * scale,
            std=math.sqrt(max(self.m2, 0.0) / self.count) * scale,
            abs_max=max(abs(self.low), abs(self.high)),
            l2=math.sqrt(math.fsum(self.squares)) * scale,
            zeros=float(self.zeros) / self.size,
            nan=self.nan,
            inf=self.inf,
        )


def _float64_copy(values: np.ndarray) -> np.ndarray:
    """A float64 copy the accumulator may overwrite, in this thread's scratch buffer (float16 goes
    through float32: exact, and numpy converts that way many times faster)."""
    if values.dtype == np.float16:
        values = values.astype(np.float32)
    copy = scratch("float64").array(values.shape, np.float64)
    np.copyto(copy, values)
    return copy


# ----------------------------------------------------------------------------------- the blocks


@dataclass(frozen=True)
class Cut:
    """One block of a stored tensor: grid rows ``rows``, columns ``cols``, shaped ``shape``.

    ``convert`` re-lays the block out after reading (a CuDNN transpose): such a block is read
    whole (memory: the block) rather than in windows, and its digest is of the converted bytes.
    """

    rows: tuple[int, int]
    cols: tuple[int, int]
    #: The block's shape as cut (before ``convert``).
    shape: tuple[int, ...]
    convert: Callable[[np.ndarray], np.ndarray] | None = None

    def meets(self, window: Window) -> bool:
        r0, r1, c0, c1 = window
        return r0 < self.rows[1] and self.rows[0] < r1 and c0 < self.cols[1] and self.cols[0] < c1

    def part(self, window: Window, words: np.ndarray) -> np.ndarray:
        """The block's piece of a window's words (2-D, C order within the block)."""
        r0, _, c0, _ = window
        top, bottom = max(self.rows[0], r0) - r0, min(self.rows[1], r0 + words.shape[0]) - r0
        left, right = max(self.cols[0], c0) - c0, min(self.cols[1], c0 + words.shape[1]) - c0
        return words[top:bottom, left:right]


@dataclass(frozen=True)
class Summary:
    """What the streaming pass gives each block."""

    sha256: str
    stats: TensorStats


class BlockSet:
    """The blocks cut from one stored tensor: read together, summarised in one pass, once."""

    def __init__(self, data: TensorData, dtype: str, cuts: list[Cut]) -> None:
        self.data = data
        #: The stored dtype name (``bfloat16`` words are decoded for values).
        self.dtype = dtype
        self.cuts = cuts
        self._summaries: list[Summary] | None = None
        self._lock = threading.Lock()

    def summary(self, index: int) -> Summary:
        if self._summaries is None:
            with self._lock:
                if self._summaries is None:
                    self._summaries = _summarise(self.data, self.dtype, self.cuts)
        return self._summaries[index]

    def words(self, index: int) -> np.ndarray:
        """Block ``index``'s stored words, shaped and converted (read now; bounded by the block)."""
        cut = self.cuts[index]
        return _read_cut(self.data, cut)

    def head(self, index: int, rows: int) -> np.ndarray:
        """The first ``rows`` grid rows of block ``index`` as stored (2-D values, before any conversion)."""
        cut = self.cuts[index]
        (r0, stop), (c0, c1) = cut.rows, cut.cols
        r1 = min(r0 + rows, stop)
        return decode(_read_cut(self.data, Cut((r0, r1), cut.cols, (r1 - r0, c1 - c0))), self.dtype)


def scan(blocks: list[Block], visit: Callable[[int, int, int, np.ndarray], None]) -> None:
    """Read the given blocks as stored (before any conversion), each stored tensor once, in windows.

    ``visit(position, top, left, values)`` gets each piece: ``position`` in ``blocks``, the piece's
    first row and column within the block's 2-D grid cut, and its values (2-D, decoded).
    Memory: a window at a time.
    """
    by_set: dict[int, list[int]] = {}
    for position, block in enumerate(blocks):
        by_set.setdefault(id(block.blocks), []).append(position)
    for positions in by_set.values():
        blockset = blocks[positions[0]].blocks
        data = blockset.data
        window_scratch = scratch("window")
        for window in data.windows(WINDOW_BYTES):
            words: np.ndarray | None = None
            for position in positions:
                cut = blocks[position].cut
                if cut.meets(window):
                    words = data.read(window, window_scratch) if words is None else words
                    top, left = max(window[0], cut.rows[0]) - cut.rows[0], max(window[2], cut.cols[0]) - cut.cols[0]
                    visit(position, top, left, decode(cut.part(window, words), blockset.dtype))


def _read_cut(data: TensorData, cut: Cut) -> np.ndarray:
    (r0, r1), (c0, c1) = cut.rows, cut.cols
    if isinstance(data, ArrayData):
        words = data.read((r0, r1, c0, c1))
    else:
        words = np.empty((r1 - r0, c1 - c0), dtype=data.dtype)
        window_scratch = scratch("window")
        for window in data.windows(WINDOW_BYTES):
            if cut.meets(window):
                piece = cut.part(window, data.read(window, window_scratch))
                top, left = max(window[0], r0) - r0, max(window[2], c0) - c0
                words[top : top + piece.shape[0], left : left + piece.shape[1]] = piece
    words = words.reshape(cut.shape)
    return cut.convert(words) if cut.convert is not None else words


# ------------------------------------------------------------------------------ the one pass


class _Hashing:
    """sha256 updates on one background thread per process, in submission order.

    Each update gets a copy of its piece in a pooled buffer (at most :data:`_HASH_BACKLOG` wait),
    so the reader can go on with the next window while the other core hashes this one.
    """

    _shared: _Hashing | None = None
    _pid: int | None = None

    def __init__(self) -> None:
        import queue  # here: small files never start the thread, and never pay for the import

        self.work: queue.SimpleQueue[tuple[Any, memoryview, np.ndarray] | threading.Event] = queue.SimpleQueue()
        self.free: queue.Queue[np.ndarray] = queue.Queue()
        self.empty = queue.Empty
        self.made = 0
        self.error: BaseException | None = None
        threading.Thread(target=self._run, name="kernelsplit-sha256", daemon=True).start()

    @classmethod
    def shared(cls) -> _Hashing:
        # A thread started before a fork does not exist in the child: one per process.
        if cls._shared is None or cls._pid != os.getpid():
            cls._shared, cls._pid = cls(), os.getpid()
        return cls._shared

    def _run(self) -> None:
        while True:
            item = self.work.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            hasher, data, buffer = item
            try:
                hasher.update(data)
            except BaseException as exc:  # reported by wait(); the digest is then not used
                self.error = exc
            finally:
                # A buffer grown for an outsized band is dropped, not kept for the process's life.
                self.free.put(buffer if buffer.size <= 2 * WINDOW_BYTES else np.empty(0, dtype=np.uint8))

    def update(self, hasher: Any, piece: np.ndarray) -> None:
        """Hash a copy of ``piece`` (C order) in the background."""
        nbytes = piece.nbytes
        try:
            buffer = self.free.get_nowait()
        except self.empty:
            if self.made < _HASH_BACKLOG:
                self.made += 1
                buffer = np.empty(0, dtype=np.uint8)
            else:
                buffer = self.free.get()
        if buffer.size < nbytes:
            buffer = np.empty(max(nbytes, WINDOW_BYTES), dtype=np.uint8)
        copy = buffer[:nbytes].view(piece.dtype).reshape(piece.shape)
        np.copyto(copy, piece)
        self.work.put((hasher, buffer[:nbytes].data, buffer))

    def wait(self) -> None:
        """Return when every update submitted so far is done."""
        done = threading.Event()
        self.work.put(done)
        done.wait()
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _summarise(data: TensorData, dtype: str, cuts: list[Cut]) -> list[Summary]:
    hashers = [hashlib.sha256() for _ in cuts]
    accumulators = [StatsAccumulator() for _ in cuts]
    itemsize = data.dtype.itemsize
    threaded = [math.prod(cut.shape) * itemsize >= _THREAD_HASH_BYTES for cut in cuts]
    hashing = _Hashing.shared() if any(threaded) else None
    window_scratch = scratch("window")

    def feed(index: int, words: np.ndarray) -> None:
        if hashing is not None and threaded[index]:
            hashing.update(hashers[index], words)
        else:
            hashers[index].update(np.ascontiguousarray(words).data)
        accumulators[index].add(decode(words, dtype))

    try:
        plain = [k for k, cut in enumerate(cuts) if cut.convert is None]
        if plain:
            for window in data.windows(WINDOW_BYTES):
                words: np.ndarray | None = None
                for index in plain:
                    if cuts[index].meets(window):
                        words = data.read(window, window_scratch) if words is None else words
                        feed(index, cuts[index].part(window, words))
        for index, cut in enumerate(cuts):
            if cut.convert is not None:
                for piece in _pieces(_read_cut(data, cut)):
                    feed(index, piece)
    finally:
        if hashing is not None:
            hashing.wait()
    for index, accumulator in enumerate(accumulators):
        abs_max = accumulator.abs_max
        if abs_max is not None and abs_max > RESCALE_ABOVE:
            accumulators[index] = _rescaled(data, dtype, cuts[index], abs_max)
    return [Summary(h.hexdigest(), a.result()) for h, a in zip(hashers, accumulators, strict=True)]


def _pieces(block: np.ndarray) -> Iterator[np.ndarray]:
    """A converted block in pieces of about a window, in C order."""
    flat = np.ascontiguousarray(block).reshape(-1)
    step = max(WINDOW_BYTES // max(flat.itemsize, 1), 1)
    for start in range(0, flat.size, step):
        yield flat[start : start + step]


def _rescaled(data: TensorData, dtype: str, cut: Cut, scale: float) -> StatsAccumulator:
    """A second pass over one block whose values exceed :data:`RESCALE_ABOVE` (float64 only)."""
    accumulator = StatsAccumulator(scale)
    if cut.convert is not None:
        for piece in _pieces(_read_cut(data, cut)):
            accumulator.add(decode(piece, dtype))
        return accumulator
    window_scratch = scratch("window")
    for window in data.windows(WINDOW_BYTES):
        if cut.meets(window):
            accumulator.add(decode(cut.part(window, data.read(window, window_scratch)), dtype))
    return accumulator


class Block:
    """One gate block: the numbers on demand, the digest and statistics from its :class:`BlockSet`'s pass.

    Arrays are read when asked for and not kept: the last one handed out is remembered only as
    long as the caller holds it (a weak reference), so memory follows what callers hold.
    """

    def __init__(self, blocks: BlockSet, index: int, shape: tuple[int, ...]) -> None:
        self.blocks = blocks
        self.index = index
        #: The block's shape as the model shows it (after conversion).
        self.shape = shape
        self._words: weakref.ref[np.ndarray] | None = None
        self._values: weakref.ref[np.ndarray] | None = None

    @classmethod
    def of_array(cls, words: np.ndarray, dtype: str) -> Block:
        """A block that is a whole array in memory: its stored words (bfloat16: ``uint16`` words,
        or float32 values that are bfloat16 numbers) and dtype name."""
        words = stored_words(words, dtype)
        shape = tuple(int(n) for n in words.shape)
        rows, cols = grid(shape)
        return cls(BlockSet(ArrayData(words), dtype, [Cut((0, rows), (0, cols), shape)]), 0, shape)

    @property
    def dtype(self) -> str:
        return self.blocks.dtype

    @property
    def cut(self) -> Cut:
        return self.blocks.cuts[self.index]

    def words(self) -> np.ndarray:
        """The stored words (bfloat16: ``uint16``), read-only."""
        cached = self._words() if self._words is not None else None
        if cached is not None:
            return cached
        words = self.blocks.words(self.index)
        words.flags.writeable = False
        self._words = weakref.ref(words)
        return words

    def values(self) -> np.ndarray:
        """The values (bfloat16 decoded to float32), read-only."""
        if self.blocks.dtype != "bfloat16":
            return self.words()
        cached = self._values() if self._values is not None else None
        if cached is not None:
            return cached
        values = decode(self.words(), "bfloat16")
        values.flags.writeable = False
        self._values = weakref.ref(values)
        return values

    def summary(self) -> Summary:
        return self.blocks.summary(self.index)

    def head(self, rows: int) -> np.ndarray:
        """The first ``rows`` rows of the block as stored (2-D grid values, before any conversion)."""
        return self.blocks.head(self.index, rows)
