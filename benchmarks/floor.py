"""The floor: a naive bare h5py + numpy script doing the work ``kernelsplit inspect --format json`` does.

It reads every dataset of every layer of a legacy full-model ``.h5`` (``model_weights``), cuts each
recurrent tensor into its gate blocks, and per block computes the sha256 of its bytes and the same
statistics in float64 (min, max, mean, std, abs max, L2, zeros, NaN, Inf). No chunking, no threads:
what a careful engineer would write in ten minutes. ``bench_big.py`` reports kernelsplit's times as
ratios against it. Usage: ``python benchmarks/floor.py MODEL.h5``.
"""

from __future__ import annotations

import argparse
import hashlib

import h5py
import numpy as np


def block_stats(block: np.ndarray) -> tuple[object, ...]:
    values = np.asarray(block, dtype=np.float64).reshape(-1)
    finite = values[np.isfinite(values)]
    return (
        finite.min(),
        finite.max(),
        finite.mean(),
        finite.std(),
        np.abs(finite).max(),
        np.sqrt(np.dot(finite, finite)),
        np.count_nonzero(finite == 0) / values.size,
        int(np.isnan(values).sum()),
        int(np.isinf(values).sum()),
        hashlib.sha256(np.ascontiguousarray(block).tobytes()).hexdigest(),
    )


def main(path: str) -> None:
    with h5py.File(path, "r") as h5:
        root = h5["model_weights"]
        for layer in root.attrs["layer_names"]:
            group = root[layer]
            names = list(group.attrs.get("weight_names", []))
            arrays = [group[name][()] for name in names]
            for k in range(len(arrays) - 1):
                recurrent = arrays[k + 1]
                if recurrent.ndim < 2 or recurrent.shape[-1] % max(recurrent.shape[-2], 1):
                    continue
                units = recurrent.shape[-2]
                for part in arrays[k : k + 3]:
                    for gate in range(part.shape[-1] // units):
                        block_stats(part[..., gate * units : (gate + 1) * units])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("model", help="a legacy full-model .h5 (with model_weights)")
    main(parser.parse_args().model)
