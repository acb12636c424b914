"""Comparing statistics computed two ways (the streaming pass, the whole array)."""

from __future__ import annotations

import math

from kernelsplit.tensordata import TensorStats

RTOL = 1e-12
#: Below this share of the block's abs max, a mean or std is float64 rounding noise in both
#: computations (the std of a constant block, the mean of a symmetric one): there only the floor holds.
NOISE = 1e-14


def assert_stats_close(got: TensorStats, want: TensorStats, what: str = "") -> None:
    """Equal counts; every float equal within 1e-12 relative (means and stds: or both under the noise floor)."""
    for key, expected in want.as_dict().items():
        value = getattr(got, key)
        if expected is None or isinstance(expected, int):
            assert value == expected, (what, key, value, expected)
            continue
        floor = NOISE * (want.abs_max or 0.0) if key in ("mean", "std") else 0.0
        assert value is not None and math.isclose(value, expected, rel_tol=RTOL, abs_tol=floor), (
            what,
            key,
            value,
            expected,
        )
