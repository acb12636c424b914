"""Time and memory of ``kernelsplit inspect`` vs a bare h5py script vs ``keras.models.load_model``.

Each contender runs as its own process (start-up included, as a user would run it), ``--repeat``
times; we report the median wall time and the peak RSS of the child (``os.wait4``).

* kernelsplit: ``python -m kernelsplit inspect --format json FILE`` (all gates, stats, digests).
* bare h5py:   a script that reads the same datasets, slices the same gate blocks and computes the
               same statistics and digests — the floor for any h5py-based tool.
* load_model:  ``keras.models.load_model`` (tf-keras for legacy .h5) then ``get_weights()`` sliced
               into gates — what users do without kernelsplit. Needs the ``oracle`` extra.

Models are generated into ``benchmarks/_models`` (git-ignored): the bundled small fixture and a
large one (two LSTM(1024) layers, ~70 MB). Usage: ``python benchmarks/bench_inspect.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE / "_models"
SMALL = HERE.parent / "fixtures" / "tf_keras" / "zoo.h5"

BARE_H5PY = textwrap.dedent("""
    import hashlib, sys
    import h5py, numpy as np

    def stats(block):
        v = np.asarray(block, dtype=np.float64).reshape(-1)
        finite = v[np.isfinite(v)]
        return (finite.min(), finite.max(), finite.mean(), finite.std(), np.abs(finite).max(),
                np.sqrt(np.dot(finite, finite)), np.count_nonzero(finite == 0) / v.size,
                int(np.isnan(v).sum()), int(np.isinf(v).sum()),
                hashlib.sha256(np.ascontiguousarray(block).tobytes()).hexdigest())

    with h5py.File(sys.argv[1], "r") as h5:
        root = h5["model_weights"]
        for layer in root.attrs["layer_names"]:
            group = root[layer]
            names = list(group.attrs.get("weight_names", []))
            arrays = [group[n][()] for n in names]
            for k in range(0, len(arrays) - 1):
                kernel, recurrent = arrays[k], arrays[k + 1]
                if recurrent.ndim < 2 or recurrent.shape[-1] % max(recurrent.shape[-2], 1):
                    continue
                units = recurrent.shape[-2]
                for part in arrays[k:k + 3]:
                    for g in range(part.shape[-1] // units):
                        stats(part[..., g * units:(g + 1) * units])
""")

LOAD_MODEL = textwrap.dedent("""
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    path = sys.argv[1]
    import tf_keras as keras   # the legacy .h5 files here are tf-keras files
    model = keras.models.load_model(path, compile=False, safe_mode=False)
    for layer in model.layers:
        weights = layer.get_weights()
        if len(weights) >= 2 and weights[1].ndim == 2:
            units = weights[1].shape[0]
            blocks = [w[..., g * units:(g + 1) * units] for w in weights for g in range(w.shape[-1] // units)]
""")


def make_large(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    code = textwrap.dedent(f"""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np
        import tf_keras as keras
        inputs = keras.Input((8, 1024))
        x = keras.layers.LSTM(1024, return_sequences=True, name="lstm_a")(inputs)
        x = keras.layers.LSTM(1024, name="lstm_b")(x)
        model = keras.Model(inputs, keras.layers.Dense(10)(x))
        rng = np.random.default_rng(0)
        model.set_weights([rng.normal(size=w.shape).astype("float32") * 0.05 for w in model.get_weights()])
        model.save({str(path)!r})
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def measure(argv: list[str], repeat: int) -> tuple[float, float]:
    """Median seconds and max peak RSS (MiB) over ``repeat`` runs of ``argv``."""
    times, peaks = [], []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(argv)}")
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(times), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-keras", action="store_true", help="skip the load_model contender")
    args = parser.parse_args()
    large = MODELS / "large_lstm1024.h5"
    make_large(large)
    python = sys.executable
    print(f"{'model':<22}{'contender':<14}{'median s':>10}{'peak MiB':>10}{'vs h5py':>9}{'vs keras':>10}")
    for label, path in (("small (zoo.h5)", SMALL), (f"large ({large.stat().st_size / 2**20:.0f} MB)", large)):
        results = {
            "kernelsplit": measure(
                [python, "-m", "kernelsplit", "inspect", "--format", "json", str(path)], args.repeat
            ),
            "bare h5py": measure([python, "-c", BARE_H5PY, str(path)], args.repeat),
        }
        if not args.skip_keras:
            results["load_model"] = measure([python, "-c", LOAD_MODEL, str(path)], max(1, args.repeat // 2))
        base = results["kernelsplit"][0]
        for name, (seconds, peak) in results.items():
            vs_h5py = seconds / results["bare h5py"][0]
            vs_keras = (
                f"{results['load_model'][0] / base:>9.1f}x" if "load_model" in results and name == "kernelsplit" else ""
            )
            print(f"{label:<22}{name:<14}{seconds:>10.3f}{peak:>10.0f}{vs_h5py:>8.2f}x{vs_keras:>10}")


if __name__ == "__main__":
    main()
