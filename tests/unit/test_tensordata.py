"""The streaming pass equals the whole-array computation: digests byte for byte, statistics within 1e-12.

Windows are made tiny here (a few bytes) so every block is fed in many pieces, split inside rows
as well as between them; the whole-array references are ``TensorStats.of`` and ``array_sha256``,
the computations kernelsplit made before the pass existed.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.stats import assert_stats_close

from kernelsplit import tensordata
from kernelsplit.model import array_sha256
from kernelsplit.tensordata import (
    ArrayData,
    Block,
    BlockSet,
    Cut,
    StatsAccumulator,
    TensorStats,
    decode,
    grid,
    hyperslab,
    plan_windows,
)

AWKWARD = {
    "float32 normal": np.random.default_rng(0).normal(size=(37, 29)).astype(np.float32),
    "float16": np.random.default_rng(1).normal(size=(16, 12)).astype(np.float16),
    "float64": np.random.default_rng(2).normal(size=(9, 40)) * 1e3,
    "constant": np.full((13, 7), 0.1, dtype=np.float64),
    "ones": np.ones((5, 8), dtype=np.float32),
    "zeros": np.zeros((6, 6), dtype=np.float32),
    "nan and inf": np.array([[np.nan, 1.0, -np.inf], [2.0, np.inf, 0.0], [np.nan, -3.5, 0.0]], dtype=np.float32),
    "all nan": np.full((3, 4), np.nan, dtype=np.float32),
    "huge float64": np.array([[1e250, -3e251, 2.0], [0.0, 5e249, -1e-300]]),
    "tiny float64": np.array([[1e-300, 2e-310, -5e-320], [0.0, 1e-290, 3e-300]]),
    "mean far from zero": (1000.0 + np.random.default_rng(3).normal(size=(50, 20)) * 1e-6).astype(np.float64),
    "int32": np.arange(-20, 20, dtype=np.int32).reshape(5, 8),
    "one row": np.random.default_rng(4).normal(size=(1, 33)).astype(np.float32),
    "one value": np.array([[7.25]], dtype=np.float32),
    "empty": np.zeros((0, 4), dtype=np.float32),
}


@pytest.mark.parametrize("name", sorted(AWKWARD))
@pytest.mark.parametrize("pieces", [1, 2, 7])
def test_accumulator_equals_the_whole_array_computation(name: str, pieces: int) -> None:
    values = AWKWARD[name]
    accumulator = StatsAccumulator()
    for piece in np.array_split(values.reshape(-1), pieces):
        accumulator.add(piece)
    result = accumulator.result()
    if accumulator.abs_max is not None and accumulator.abs_max > tensordata.RESCALE_ABOVE:
        rescaled = StatsAccumulator(accumulator.abs_max)
        for piece in np.array_split(values.reshape(-1), pieces):
            rescaled.add(piece)
        result = rescaled.result()
    assert_stats_close(result, TensorStats.of(values), name)


shapes = st.lists(st.integers(0, 5), min_size=1, max_size=5).map(tuple)


@settings(max_examples=300, deadline=None)
@given(shapes, st.integers(1, 200), st.sampled_from([1, 2, 3]))
def test_windows_cover_the_grid_once_in_c_order_and_are_hyperslabs(
    shape: tuple[int, ...], budget: int, align: int
) -> None:
    values = np.arange(math.prod(shape), dtype=np.int64).reshape(shape)
    rows, cols = grid(shape)
    flat = values.reshape(rows, cols)
    seen: list[int] = []
    for window in plan_windows(shape, 8, budget, align):
        r0, r1, c0, c1 = window
        assert (c0, c1) == (0, cols) or r1 - r0 == 1
        assert values[hyperslab(shape, window)].reshape(-1).tolist() == flat[r0:r1, c0:c1].reshape(-1).tolist()
        seen += flat[r0:r1, c0:c1].reshape(-1).tolist()
    assert seen == list(range(values.size))


def _cuts_of(shape: tuple[int, ...], gates: int) -> list[Cut]:
    """Column blocks over every row, as the fused split cuts them."""
    rows, cols = grid(shape)
    width = cols // gates
    return [Cut((0, rows), (g * width, (g + 1) * width), (*shape[:-1], width)) for g in range(gates)]


@pytest.mark.parametrize("window", [1, 3, 17, 64, tensordata.WINDOW_BYTES])
@pytest.mark.parametrize(
    ("shape", "gates", "dtype"),
    [
        ((7, 12), 4, np.float32),
        ((1, 12), 3, np.float16),
        ((12,), 4, np.float64),
        ((2, 9), 3, np.float32),  # a reset_after bias seen as rows
        ((3, 2, 5, 8), 4, np.float32),  # a ConvLSTM2D kernel
        ((2, 3, 2, 4, 8), 4, np.float64),  # a ConvLSTM3D kernel
        ((4, 8), 1, np.float32),
        ((0, 8), 2, np.float32),  # zero-size blocks: the digest of no bytes, no statistics
    ],
)
def test_block_summaries_equal_whole_block_digests_and_stats(
    monkeypatch: pytest.MonkeyPatch, window: int, shape: tuple[int, ...], gates: int, dtype: type
) -> None:
    monkeypatch.setattr(tensordata, "WINDOW_BYTES", window)
    monkeypatch.setattr(tensordata, "_THREAD_HASH_BYTES", 16)  # the background thread hashes too
    stored = (np.random.default_rng(5).normal(size=shape) * 3).astype(dtype)
    stored.reshape(-1)[::5] = 0.0
    cuts = _cuts_of(shape, gates)
    blocks = BlockSet(ArrayData(stored), str(np.dtype(dtype)), cuts)
    for index, cut in enumerate(cuts):
        expected = stored[..., cut.cols[0] : cut.cols[1]]
        summary = blocks.summary(index)
        assert summary.sha256 == array_sha256(expected)
        assert_stats_close(summary.stats, TensorStats.of(expected), str(cut))
        assert np.array_equal(Block(blocks, index, cut.shape).values(), expected)


@pytest.mark.parametrize("window", [2, 64])
def test_row_blocks_of_a_reset_after_bias(monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    monkeypatch.setattr(tensordata, "WINDOW_BYTES", window)
    stored = np.random.default_rng(6).normal(size=(2, 9)).astype(np.float32)
    cuts = [Cut((row, row + 1), (g * 3, g * 3 + 3), (3,)) for row in (0, 1) for g in range(3)]
    blocks = BlockSet(ArrayData(stored), "float32", cuts)
    for index, cut in enumerate(cuts):
        expected = stored[cut.rows[0], cut.cols[0] : cut.cols[1]]
        assert blocks.summary(index).sha256 == array_sha256(expected)
        assert_stats_close(blocks.summary(index).stats, TensorStats.of(expected))


def test_converted_blocks_are_digested_after_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    """CuDNN blocks are re-laid out: their digest and statistics are of the converted bytes."""
    monkeypatch.setattr(tensordata, "WINDOW_BYTES", 8)
    stored = np.random.default_rng(7).normal(size=(5, 12)).astype(np.float32)

    def convert(block: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.ascontiguousarray(block).reshape(3, 5).T)

    cuts = [Cut((0, 5), (g * 3, g * 3 + 3), (5, 3), convert) for g in range(4)]
    blocks = BlockSet(ArrayData(stored), "float32", cuts)
    for index, cut in enumerate(cuts):
        expected = convert(stored[:, cut.cols[0] : cut.cols[1]])
        assert blocks.summary(index).sha256 == array_sha256(expected)
        assert_stats_close(blocks.summary(index).stats, TensorStats.of(expected))
        assert np.array_equal(Block(blocks, index, (5, 3)).values(), expected)


def test_bfloat16_blocks_digest_the_stored_words_and_compute_on_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tensordata, "WINDOW_BYTES", 4)
    values = np.random.default_rng(8).normal(size=(6, 8)).astype(np.float32)
    words = (values.view(np.uint32) >> 16).astype(np.uint16)
    cuts = _cuts_of((6, 8), 2)
    blocks = BlockSet(ArrayData(words), "bfloat16", cuts)
    for index, cut in enumerate(cuts):
        block_words = words[:, cut.cols[0] : cut.cols[1]]
        assert blocks.summary(index).sha256 == array_sha256(block_words)
        assert_stats_close(blocks.summary(index).stats, TensorStats.of(decode(block_words, "bfloat16")))
        block = Block(blocks, index, cut.shape)
        assert block.values().dtype == np.float32 and np.array_equal(block.words(), block_words)


def test_huge_float64_blocks_get_the_rescaled_second_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tensordata, "WINDOW_BYTES", 16)
    stored = np.random.default_rng(9).normal(size=(6, 8)) * 1e250
    stored[0, 0] = np.nan
    cuts = _cuts_of((6, 8), 2)
    blocks = BlockSet(ArrayData(stored), "float64", cuts)
    for index, cut in enumerate(cuts):
        assert_stats_close(blocks.summary(index).stats, TensorStats.of(stored[:, cut.cols[0] : cut.cols[1]]))


def test_big_endian_words_are_digested_little_endian() -> None:
    stored = np.arange(12, dtype=">f4").reshape(3, 4)
    blocks = BlockSet(ArrayData(stored), "float32", _cuts_of((3, 4), 2))
    assert blocks.summary(0).sha256 == array_sha256(stored[:, :2].astype("<f4"))


def test_arrays_handed_out_are_read_only_and_remembered_only_while_held() -> None:
    stored = np.arange(12, dtype=np.float32).reshape(3, 4)
    block = Block(BlockSet(ArrayData(stored), "float32", _cuts_of((3, 4), 2)), 1, (3, 2))
    first = block.values()
    assert not first.flags.writeable
    assert block.values() is first
    identity = id(first)
    del first
    assert np.array_equal(block.values(), stored[:, 2:]) and identity is not None


def test_the_hashing_pool_does_not_keep_outsized_buffers() -> None:
    """A chunk-aligned band larger than a window is hashed right, but its buffer is not kept."""
    hashing = tensordata._Hashing()
    band = np.arange(3 * tensordata.WINDOW_BYTES // 8, dtype=np.float64).reshape(-1, 128)
    hasher = hashlib.sha256()
    hashing.update(hasher, band)
    hashing.wait()
    assert hasher.hexdigest() == hashlib.sha256(band.tobytes()).hexdigest()
    pooled = list(hashing.free.queue)
    assert pooled and all(buffer.size <= 2 * tensordata.WINDOW_BYTES for buffer in pooled)
