"""Bounded linear algebra for the rules: spectral norms by Lanczos, and norm bounds read in one pass.

``check`` must cost little more than ``inspect`` on a 1 GB model, so no rule runs an O(u³)
decomposition when a cheaper fact settles the question (docs/architecture.md, "Big models"):

* :func:`spectral_norm` — the largest singular value by Lanczos on the smaller Gram matrix, with
  full reorthogonalisation and a seeded start, stopped when the top Ritz value's error estimate
  ``min(ρ, ρ²/gap)`` is at most :data:`SPECTRAL_RTOL` of it (ρ: its residual, gap: to the next Ritz
  value), so the result is within about 1e-6 relative of the exact ``numpy.linalg.norm(M, 2)``
  (tested against it on every real-world recurrent block). Small matrices, and the rare one that
  has not converged after :data:`MAX_STEPS` steps, get the exact SVD.
* :func:`abs_sum_bounds` — ``sqrt(‖M‖₁·‖M‖∞)``, an upper bound of ‖M‖₂, for several gate blocks
  from one windowed read of their stored tensor.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensordata import Block, scan

#: Relative error allowed on the largest eigenvalue of the Gram matrix (σ²): σ is within half of it.
SPECTRAL_RTOL = 1e-6
#: Lanczos steps before falling back to the exact SVD (each step: two matrix-vector products).
MAX_STEPS = 300
#: Matrices whose smaller side is at most this get the exact SVD (cheaper than iterating).
EXACT_BELOW = 128
#: Rounding margin on float64 sums used as upper bounds (far above their worst-case error).
BOUND_MARGIN = 1 + 1e-9


def spectral_norm(matrix: np.ndarray, rtol: float = SPECTRAL_RTOL) -> float:
    """‖matrix‖₂ (2-D, finite), by Lanczos to ``rtol`` (see the module docstring)."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"spectral_norm needs a non-empty 2-D matrix, not shape {m.shape}")
    rows, cols = m.shape
    size = min(rows, cols)
    if size <= EXACT_BELOW:
        return float(np.linalg.norm(m, ord=2))
    largest = float(np.max(np.abs(m)))
    if largest == 0.0:
        return 0.0
    scale = 2.0 ** math.ceil(math.log2(largest))  # a power of two: scaling is exact, and Gram entries cannot overflow
    return scale * _lanczos(m / scale, rtol)


def _lanczos(m: np.ndarray, rtol: float) -> float:
    rows, cols = m.shape
    size = min(rows, cols)
    left = rows <= cols  # iterate on M Mᵀ (rows × rows) or Mᵀ M, whichever is smaller
    transposed = m.T

    def gram(vector: np.ndarray) -> np.ndarray:
        product: np.ndarray = m @ (transposed @ vector) if left else transposed @ (m @ vector)
        return product

    steps = min(size, MAX_STEPS)
    basis = np.zeros((steps + 1, size))
    start = np.random.default_rng(0).standard_normal(size)
    basis[0] = start / np.linalg.norm(start)
    alphas: list[float] = []
    betas: list[float] = []
    beta = 0.0
    for step in range(steps):
        w = gram(basis[step])
        alpha = float(basis[step] @ w)
        w -= alpha * basis[step]
        if step:
            w -= beta * basis[step - 1]
        known = basis[: step + 1]
        for _ in range(2):  # full reorthogonalisation, twice ("twice is enough")
            w -= known.T @ (known @ w)
        beta = float(np.linalg.norm(w))
        alphas.append(alpha)
        tridiagonal = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        values, vectors = np.linalg.eigh(tridiagonal)
        top = float(values[-1])
        if top <= 0.0:
            return 0.0
        residual = beta * abs(float(vectors[-1, -1]))
        gap = top - float(values[-2]) if step else 0.0  # one Ritz value: no gap to trust yet
        error = min(residual, residual * residual / gap) if gap > 0 else residual
        if error <= rtol * top or beta <= 1e-14 * top:
            return math.sqrt(top)
        betas.append(beta)
        basis[step + 1] = w / beta
    return float(np.linalg.norm(m, ord=2))  # not converged in the step budget: the exact value


def abs_sum_bounds(blocks: list[Block]) -> list[float]:
    """Per 2-D block, ``sqrt(max column |sum| · max row |sum|) ≥ ‖block‖₂``, read in one pass.

    The bound holds for the block as stored and for its transpose (a CuDNN recurrent block).
    """
    columns = [np.zeros(b.cut.cols[1] - b.cut.cols[0]) for b in blocks]
    rows = [np.zeros(b.cut.rows[1] - b.cut.rows[0]) for b in blocks]

    def visit(position: int, top: int, left: int, values: np.ndarray) -> None:
        magnitude = np.abs(values.astype(np.float64))
        columns[position][left : left + magnitude.shape[1]] += magnitude.sum(axis=0)
        rows[position][top : top + magnitude.shape[0]] += magnitude.sum(axis=1)

    scan(blocks, visit)
    return [math.sqrt(float(c.max()) * float(r.max())) * BOUND_MARGIN for c, r in zip(columns, rows, strict=True)]
