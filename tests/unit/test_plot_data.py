"""What the pictures show, computed with numpy alone: pooling, mosaics, histograms, spectra, sparklines.

No matplotlib here: these run without the ``plot`` extra.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelsplit.render.plot import printable, slug
from kernelsplit.render.plot.data import MAX_CELLS, grid, histogram, kernel_mosaic, sparkline, spectrum


def test_small_blocks_are_drawn_cell_for_cell() -> None:
    block = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    drawn = grid(block)
    assert not drawn.pooled
    assert np.array_equal(drawn.values, block)
    assert drawn.abs_max == 6.0
    assert (drawn.nan, drawn.inf, drawn.marks) == (0, 0, ())


def test_a_bias_is_a_one_row_strip() -> None:
    drawn = grid(np.array([1.0, -2.0, 3.0], dtype=np.float32))
    assert drawn.values.shape == (1, 3) and drawn.full == (1, 3)


def test_pooling_keeps_a_single_exploded_weight_and_its_sign() -> None:
    rng = np.random.default_rng(0)
    block = (rng.normal(size=(2048, 8192)) * 0.05).astype(np.float32)[:, 2048:4096]  # a gate's column slice
    block[1000, 777] = -9.0
    drawn = grid(block)
    assert drawn.values.shape == (MAX_CELLS, MAX_CELLS)
    assert drawn.factor == (8, 8)
    assert drawn.values[1000 // 8, 777 // 8] == -9.0  # max-|w| pooling, sign kept
    assert drawn.abs_max == 9.0
    # Every drawn cell is the value of largest magnitude of its 8×8 tile.
    tiles = block.reshape(256, 8, 256, 8).transpose(0, 2, 1, 3).reshape(256, 256, 64)
    expected = np.take_along_axis(tiles, np.abs(tiles).argmax(axis=2)[..., None], axis=2)[..., 0]
    assert np.array_equal(drawn.values, expected)
    # The outlier is circled, at its tile's centre in block coordinates.
    assert drawn.marks == ((1000 // 8 * 8 + 3.5, 777 // 8 * 8 + 3.5),)


def test_uneven_tiles_cover_every_value() -> None:
    block = np.zeros((300, 1000), dtype=np.float32)
    block[299, 999] = 5.0  # the last, partial tile
    drawn = grid(block)
    assert drawn.factor == (2, 4) and drawn.values.shape == (150, 250)
    assert drawn.values[-1, -1] == 5.0


def test_nan_wins_a_tile_and_the_scale_ignores_non_finite_values() -> None:
    block = np.ones((600, 600), dtype=np.float32)
    block[0, 0] = np.nan
    block[599, 599] = np.inf
    block[300, 300] = -3.0
    drawn = grid(block)
    assert np.isnan(drawn.values[0, 0]) and np.isnan(drawn.values[-1, -1])  # Inf is drawn as non-finite too
    assert drawn.abs_max == 3.0  # exact, from the finite values
    assert (drawn.nan, drawn.inf) == (1, 1)
    assert len(drawn.marks) >= 2


def test_an_all_non_finite_block_has_no_scale() -> None:
    drawn = grid(np.full((3, 3), np.nan, dtype=np.float32))
    assert drawn.abs_max is None and drawn.nan == 9


@pytest.mark.parametrize(
    ("shape", "tile"),
    [((3, 2, 4), (1, 3)), ((3, 5, 2, 4), (3, 5)), ((2, 3, 5, 2, 4), (3, 10))],
    ids=["conv1d", "conv2d", "conv3d"],
)
def test_convlstm_mosaic_tile_c_f_is_the_kernel_from_channel_c_to_filter_f(
    shape: tuple[int, ...], tile: tuple[int, int]
) -> None:
    block = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    mosaic, found = kernel_mosaic(block)
    assert found == tile
    channels, filters = shape[-2:]
    assert mosaic.shape == (channels * tile[0], filters * tile[1])
    for c in range(channels):
        for f in range(filters):
            piece = mosaic[c * tile[0] : (c + 1) * tile[0], f * tile[1] : (f + 1) * tile[1]]
            kernel = block[..., c, f]
            if kernel.ndim == 1:
                expected = kernel[None, :]
            elif kernel.ndim == 2:
                expected = kernel
            else:  # (kd, kh, kw): depth slices side by side
                expected = np.concatenate(list(kernel), axis=1)
            assert np.array_equal(piece, expected)


def test_histogram_counts_like_numpy() -> None:
    rng = np.random.default_rng(1)
    block = rng.normal(size=(700, 900))
    limit = float(np.abs(block).max())
    ours = histogram(block, -limit, limit, 60)
    theirs, _ = np.histogram(block, bins=60, range=(-limit, limit))
    assert np.array_equal(ours, theirs)


def test_histogram_skips_non_finite_and_handles_a_constant_block() -> None:
    block = np.array([1.0, np.nan, np.inf, -1.0, 0.0], dtype=np.float32)
    assert histogram(block, -1.0, 1.0, 4).tolist() == [1, 0, 1, 1]
    assert histogram(np.zeros(5), 0.0, 0.0, 3).tolist() == [0, 5, 0]


def test_sparkline_shows_empty_bins_as_gaps() -> None:
    line = sparkline(np.array([0.0, 0.0, 0.0, 0.0, 10.0]), 0.0, 10.0, width=5)
    assert line == "█   ▂"
    assert sparkline(np.array([np.nan]), None, None) == ""


def test_spectrum_is_the_singular_values_or_says_why_not() -> None:
    rng = np.random.default_rng(2)
    square = rng.normal(size=(20, 20)).astype(np.float32)
    found = spectrum(square, max_units=64)
    assert found.values is not None
    assert np.allclose(found.values, np.linalg.svd(square.astype(np.float64), compute_uv=False))
    assert "u=20 > 8" in (spectrum(square, max_units=8).skipped or "")
    assert spectrum(rng.normal(size=(3, 3, 2, 2)), 64).skipped == "not a square u×u matrix"
    square[0, 0] = np.nan
    assert spectrum(square, 64).skipped == "holds NaN or Inf"


def test_printable_escapes_control_and_format_characters() -> None:
    assert printable("a\x1b[31mb\u202ec\ud800") == "a\\x1b[31mb\\u202ec\\ud800"
    assert printable("x" * 200, limit=10) == "x" * 9 + "…"


def test_slug_is_file_safe() -> None:
    assert slug("bidi/forward") == "bidi_forward"
    assert slug("../../etc/passwd") == "etc_passwd"
    assert slug("...") == "layer"
