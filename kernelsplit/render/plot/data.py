"""What the pictures show, computed with numpy only (no matplotlib here; ``inspect`` uses it too).

Every gate block becomes a small 2-D *grid* before anything is drawn (docs/architecture.md,
"Pictures"):

* a 2-D block is its own grid; a bias ``(u,)`` is a ``1 × u`` strip;
* a ConvLSTM block ``(*kernel, channels, filters)`` becomes a mosaic: one tile per
  (input channel, filter) pair holding that kernel, tiles in channel rows and filter columns
  (``kernel_mosaic``);
* a grid larger than ``MAX_CELLS`` on a side is *max-|w| pooled*: each output cell holds the value
  of largest magnitude in its tile (NaN wins), so a single exploded weight stays visible.

The colour scale and histogram ranges come from the exact finite |max| of each block, never from
the pooled picture alone when the block holds NaN or Inf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Largest grid side handed to matplotlib: 2048×8192 blocks become at most 256×256 pictures.
MAX_CELLS = 256
#: Bins of the distribution figures.
BINS = 60
#: A block's largest |value| is circled when it is at least this many times the 99th percentile of
#: its drawn |values| (a lone exploded weight; a trained block's heavy tail stays well below this).
OUTLIER_RATIO = 5.0
#: Pictures smaller than this on both sides show every cell plainly: nothing is circled.
MARK_FROM_CELLS = 32
#: At most this many NaN/Inf cells are circled per block.
MAX_MARKS = 5
#: Values per chunk when histogramming: bounds the temporary memory of a 1 GB block.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Grid:
    """One block as a picture: the (possibly pooled) values and how they map to the block."""

    #: float64 picture, at most ``MAX_CELLS`` per side; NaN marks non-finite values (NaN or ±Inf).
    values: np.ndarray
    #: The block's stored shape.
    shape: tuple[int, ...]
    #: Rows × columns of the full-resolution grid (a mosaic for ConvLSTM blocks).
    full: tuple[int, int]
    #: Rows and columns of the full grid per picture cell (1, 1 when not pooled).
    factor: tuple[int, int]
    #: Largest finite |value| in the block (None when it holds no finite value).
    abs_max: float | None
    nan: int
    inf: int
    #: Tile (rows, columns) of a ConvLSTM mosaic, None for plain matrices.
    tile: tuple[int, int] | None = None
    #: (row, column) centres, in full-grid indices, of the drawn cells worth a circle: the first
    #: ``MAX_MARKS`` non-finite ones, then the largest |value| when it is an outlier.
    marks: tuple[tuple[float, float], ...] = ()

    @property
    def pooled(self) -> bool:
        return self.factor != (1, 1)

    @property
    def nonfinite(self) -> int:
        return self.nan + self.inf


def kernel_mosaic(block: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """A ConvLSTM gate block ``(*kernel, C, F)`` as a 2-D mosaic and its tile shape.

    Tile (c, f) holds the kernel from input channel c to filter f: ``(kh, kw)`` for 2-D kernels,
    ``(1, k)`` for 1-D, and ``(kh, kd·kw)`` for 3-D (the depth slices side by side). Tiles are laid
    out in C rows and F columns, so the mosaic is ``(C·th, F·tw)``.
    """
    *kernel, channels, filters = block.shape
    if len(kernel) == 1:
        (k,) = kernel
        tiles = np.moveaxis(block, 0, -1)[:, None, :, :]  # (C, 1, F, k)
        tile = (1, k)
    elif len(kernel) == 2:
        tiles = np.transpose(block, (2, 0, 3, 1))  # (C, kh, F, kw)
        tile = (kernel[0], kernel[1])
    else:
        kd, kh, kw = kernel[-3:]
        lead = int(np.prod(kernel[:-3], dtype=np.int64)) if len(kernel) > 3 else 1
        # Rank > 5 never occurs in Keras; fold extra leading axes into depth so nothing is hidden.
        folded = block.reshape(lead * kd, kh, kw, channels, filters)
        tiles = np.transpose(folded, (3, 1, 4, 0, 2))  # (C, kh, F, kd, kw)
        tile = (kh, lead * kd * kw)
    mosaic = np.ascontiguousarray(tiles).reshape(channels * tile[0], filters * tile[1])
    return mosaic, tile


def as_grid_source(block: np.ndarray) -> tuple[np.ndarray, tuple[int, int] | None]:
    """The 2-D array a block is drawn as (before pooling) and its mosaic tile, if any."""
    if block.ndim == 0:
        return block.reshape(1, 1), None
    if block.ndim == 1:
        return block.reshape(1, -1), None
    if block.ndim == 2:
        return block, None
    return kernel_mosaic(block)


def _pool_signed_extreme(array: np.ndarray, fr: int, fc: int) -> np.ndarray:
    """Max-|w| pooling: per (fr × fc) tile the value of largest magnitude, keeping its sign.

    Rows are reduced group by group (each group is contiguous in a C-order block, also for a gate's
    column slice), then columns on the small result. NaN propagates, so a tile holding NaN is NaN.
    """
    rows, cols = array.shape
    highs = np.empty(((rows + fr - 1) // fr, cols), dtype=np.float64)
    lows = np.empty_like(highs)
    for out, start in enumerate(range(0, rows, fr)):
        group = array[start : start + fr]
        highs[out] = group.max(axis=0)
        lows[out] = group.min(axis=0)
    if fc > 1:
        starts = np.arange(0, cols, fc)
        highs = np.maximum.reduceat(highs, starts, axis=1)
        lows = np.minimum.reduceat(lows, starts, axis=1)
    with np.errstate(invalid="ignore"):
        return np.where(highs >= -lows, highs, lows)


def grid(block: np.ndarray, max_cells: int = MAX_CELLS) -> Grid:
    """The picture of one gate block (``GateTensor.array``), pooled to at most ``max_cells`` a side."""
    source, tile = as_grid_source(np.asarray(block))
    rows, cols = (int(n) for n in source.shape)
    if source.size == 0:
        return Grid(np.zeros((rows, cols)), tuple(block.shape), (rows, cols), (1, 1), None, 0, 0, tile)
    finite_everywhere = bool(np.isfinite(source).all())
    fr, fc = max(1, math.ceil(rows / max_cells)), max(1, math.ceil(cols / max_cells))
    if fr == 1 and fc == 1:
        values = np.array(source, dtype=np.float64)
    else:
        values = _pool_signed_extreme(source, fr, fc)
    if finite_everywhere:
        nan = inf = 0
        abs_max: float | None = float(np.max(np.abs(values)))
    else:
        nan = int(np.count_nonzero(np.isnan(source)))
        inf = int(np.count_nonzero(np.isinf(source)))
        finite = source[np.isfinite(source)]
        abs_max = float(np.max(np.abs(finite))) if finite.size else None
        values = np.where(np.isfinite(values), values, np.nan)
    marks = _marks(values, fr, fc)
    return Grid(values, tuple(int(n) for n in block.shape), (rows, cols), (fr, fc), abs_max, nan, inf, tile, marks)


def _marks(values: np.ndarray, fr: int, fc: int) -> tuple[tuple[float, float], ...]:
    """Cells a reader could miss in a large picture: non-finite ones, and a lone extreme value."""
    if max(values.shape) < MARK_FROM_CELLS:
        return ()

    def centre(i: int, j: int) -> tuple[float, float]:
        return ((i + 0.5) * fr - 0.5, (j + 0.5) * fc - 0.5)

    found = [centre(int(i), int(j)) for i, j in np.argwhere(np.isnan(values))[:MAX_MARKS]]
    magnitude = np.where(np.isnan(values), -1.0, np.abs(values))
    top = float(magnitude.max())
    if top > 0.0:
        typical = float(np.percentile(magnitude[magnitude >= 0.0], 99))
        if top >= OUTLIER_RATIO * typical:
            i, j = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
            found.append(centre(int(i), int(j)))
    return tuple(found)


def symmetric_limit(abs_maxes: list[float | None]) -> float:
    """The ±limit of one colour scale or histogram range shared by several blocks (1.0 if all zero)."""
    known = [value for value in abs_maxes if value is not None and value > 0.0]
    return max(known) if known else 1.0


def histogram(block: np.ndarray, low: float, high: float, bins: int = BINS) -> np.ndarray:
    """Counts of the block's finite values in ``bins`` equal bins over [low, high] (the ends closed).

    Values outside the range go to the end bins (callers pass the block's own range). Computed in
    chunks, in float32 for float32 and narrower data, so a 2048×8192 block needs little memory.
    """
    values = np.asarray(block)
    counts = np.zeros(bins, dtype=np.int64)
    if values.size == 0:
        return counts
    flat = values.reshape(-1)  # a copy only for non-contiguous views (a gate's column slice)
    if not np.isfinite(flat).all():
        flat = flat[np.isfinite(flat)]
    work = np.float64 if flat.dtype == np.float64 else np.float32
    if not high > low:
        counts[bins // 2] = flat.size
        return counts
    scale = work(bins / (high - low))
    offset = work(low)
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start : start + _CHUNK].astype(work)
        chunk -= offset
        chunk *= scale
        np.clip(chunk, 0, bins - 1, out=chunk)
        counts += np.bincount(chunk.astype(np.intp), minlength=bins)
    return counts


@dataclass(frozen=True)
class Spectrum:
    """Singular values of one square recurrent gate block, or why there are none."""

    values: np.ndarray | None
    skipped: str | None = None


def spectrum(block: np.ndarray, max_units: int) -> Spectrum:
    """Singular values (descending) of a u×u block; skipped above ``max_units`` (an SVD costs u³)."""
    if block.ndim != 2 or block.shape[0] != block.shape[1]:
        return Spectrum(None, "not a square u×u matrix")
    units = block.shape[0]
    if units > max_units:
        return Spectrum(None, f"u={units} > {max_units} (--spectra-max-units)")
    matrix = np.asarray(block, dtype=np.float64)
    if not np.isfinite(matrix).all():
        return Spectrum(None, "holds NaN or Inf")
    return Spectrum(np.linalg.svd(matrix, compute_uv=False))


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(block: np.ndarray, low: float | None, high: float | None, width: int = 12) -> str:
    """A unicode histogram of the block's finite values over [low, high]: one character per bin.

    Heights are relative to the fullest bin; an empty bin is a space, so gaps show.
    """
    if low is None or high is None:
        return ""
    counts = histogram(block, low, high, width)
    top = int(counts.max())
    if top == 0:
        return ""
    return "".join(" " if n == 0 else _SPARKS[min(7, max(0, math.ceil(8 * n / top) - 1))] for n in counts)
