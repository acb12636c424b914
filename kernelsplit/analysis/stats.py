"""Per-tensor statistics, computed once in float64 over finite values."""

from __future__ import annotations

import numpy as np

from ..model import TensorStats

_RESCALE_ABOVE = 1e100


def tensor_stats(array: np.ndarray) -> TensorStats:
    """min/max/mean/std/abs_max/l2 over the finite values; ``zeros`` is the share of exact zeros.

    NaN and Inf are counted, not propagated, so one bad weight does not hide the rest.
    """
    values = np.asarray(array, dtype=np.float64).reshape(-1)
    size = values.size
    finite_mask = np.isfinite(values)
    nan = int(np.isnan(values).sum())
    inf = int(size - nan - int(finite_mask.sum()))
    finite = values if nan == 0 and inf == 0 else values[finite_mask]
    if finite.size == 0:
        return TensorStats(None, None, None, None, None, None, zeros=0.0, nan=nan, inf=inf)
    low = float(finite.min())
    high = float(finite.max())
    abs_max = max(abs(low), abs(high))
    # float64 weights near 1e200 would overflow sums of squares: compute on a rescaled copy.
    scale = abs_max if abs_max > _RESCALE_ABOVE else 1.0
    scaled = finite / scale if scale != 1.0 else finite
    return TensorStats(
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
