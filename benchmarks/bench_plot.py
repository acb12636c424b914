"""Time of ``kernelsplit plot`` and ``kernelsplit report`` on a ~1 GB model, against a bare script.

The model (default: 8 × LSTM(2048) over 2048 inputs, 268 M float32 weights, 1.07 GB, one exploded
recurrent weight) is saved by tf-keras into a temporary folder (never committed; ``--keep DIR``
reuses one between runs). Each contender runs as its own process, start-up included, ``--repeat``
times; we report the median wall time and the peak RSS (``os.wait4``):

* ``plot``:    ``kernelsplit plot BIG -o DIR`` (a heatmap and a distribution figure per layer);
* ``bare``:    the floor for the same pictures: h5py reads each layer's three datasets, numpy slices
               the gates, max-|w| pools them to 256×256 and histograms them, matplotlib (Agg) draws
               the same panels and colour bars and saves the same number of PNGs;
* ``report``:  ``kernelsplit report BIG -o FILE`` (the pictures, plus statistics, digests and every
               check rule);
* ``check``:   ``kernelsplit check BIG --format json``: the rules alone, the part of the report that
               is not drawing;
* ``inspect``: ``kernelsplit inspect --format json BIG``: statistics and digests alone.

Usage: ``python benchmarks/bench_plot.py [--repeat 3] [--units 2048] [--layers 8] [--keep DIR] [--skip check]``
(``check`` and ``report`` take minutes while KS106 computes full SVDs; results print as they come).
Needs the ``oracle`` extra (tf-keras writes the model) and the ``plot`` extra.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

BARE = textwrap.dedent("""
    import sys
    from pathlib import Path
    import h5py, numpy as np
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def pool(block, cells=256):
        fr, fc = -(-block.shape[0] // cells), -(-block.shape[1] // cells)
        hi = np.stack([block[i:i + fr].max(axis=0) for i in range(0, block.shape[0], fr)])
        lo = np.stack([block[i:i + fr].min(axis=0) for i in range(0, block.shape[0], fr)])
        starts = np.arange(0, block.shape[1], fc)
        hi, lo = np.maximum.reduceat(hi, starts, axis=1), np.minimum.reduceat(lo, starts, axis=1)
        return np.where(hi >= -lo, hi, lo)

    out = Path(sys.argv[2])
    out.mkdir(exist_ok=True)
    with h5py.File(sys.argv[1], "r") as h5:
        root = h5["model_weights"]
        for name in root.attrs["layer_names"]:
            group = root[name]
            names = list(group.attrs.get("weight_names", []))
            if len(names) != 3:
                continue
            kernel, recurrent, bias = (group[n][()] for n in names)
            units = recurrent.shape[0]
            parts = [(p, [p[..., g * units:(g + 1) * units] for g in range(4)]) for p in (kernel, recurrent)]
            figure = Figure(figsize=(13, 8)); FigureCanvasAgg(figure)
            for row, (_, blocks) in enumerate(parts):
                limit = max(float(np.abs(b).max()) for b in blocks)
                for col, block in enumerate(blocks):
                    ax = figure.add_subplot(3, 5, row * 5 + col + 1)
                    image = ax.imshow(pool(block), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                                      interpolation="nearest")
                figure.colorbar(image, cax=figure.add_subplot(3, 5, row * 5 + 5))
            for col in range(4):
                figure.add_subplot(3, 5, 11 + col).imshow(bias[None, col * units:(col + 1) * units][:, ::8],
                                                          cmap="RdBu_r", aspect="auto")
            figure.savefig(out / f"{name}-heatmap.png", dpi=100)
            figure = Figure(figsize=(13, 4)); FigureCanvasAgg(figure)
            for col, (part, blocks) in enumerate(parts + [(bias, [bias[g * units:(g + 1) * units] for g in range(4)])]):
                ax = figure.add_subplot(1, 3, col + 1)
                limit = max(float(np.abs(b).max()) for b in blocks)
                for block in blocks:
                    counts, edges = np.histogram(block, bins=60, range=(-limit, limit))
                    ax.stairs(counts, edges)
            figure.savefig(out / f"{name}-distribution.png", dpi=100)
""")


def make_model(path: Path, units: int, layers: int) -> None:
    code = textwrap.dedent(f"""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np
        import tf_keras as keras
        inputs = keras.Input((4, {units}))
        x = inputs
        for index in range({layers}):
            x = keras.layers.LSTM({units}, return_sequences=True, name=f"lstm_{{index}}")(x)
        model = keras.Model(inputs, keras.layers.Dense(10)(x))
        rng = np.random.default_rng(0)
        weights = []
        for w in model.get_weights():
            array = rng.standard_normal(size=w.shape, dtype=np.float32)
            array *= 0.05
            weights.append(array)
        weights[1][{units // 2}, {units + units // 2}] = 9.0  # one exploded recurrent weight in lstm_0's U_f
        model.set_weights(weights)
        model.save({str(path)!r})
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def measure(argv: list[str], repeat: int) -> tuple[float, float]:
    """Median seconds and max peak RSS (MiB) over ``repeat`` runs of ``argv``."""
    times, peaks = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) not in (0, 1):  # check exits 1 on findings
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise SystemExit(f"failed: {' '.join(argv)}\n{err[-2000:]}")
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(times), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--units", type=int, default=2048)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep (and reuse) the generated model in")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=("plot", "report", "check", "inspect"), help="contenders to leave out"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kernelsplit-bench-plot-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        big = folder / f"lstm{args.units}x{args.layers}.h5"
        if not big.exists():
            make_model(big, args.units, args.layers)
        out = Path(scratch)
        python = sys.executable
        contenders = {
            "bare": [python, "-c", BARE, str(big), str(out / "bare")],
            "plot": [python, "-m", "kernelsplit", "plot", str(big), "-o", str(out / "plots")],
            "report": [python, "-m", "kernelsplit", "report", str(big), "-o", str(out / "report.html")],
            "check": [python, "-m", "kernelsplit", "check", "--format", "json", str(big)],
            "inspect": [python, "-m", "kernelsplit", "inspect", "--format", "json", str(big)],
        }
        print(f"model: {big.name}, {big.stat().st_size / 1e9:.2f} GB; median of {args.repeat} runs")
        print(f"{'contender':<10}{'median s':>10}{'peak MiB':>10}{'vs bare':>9}", flush=True)
        bare = 0.0
        for name, argv in contenders.items():
            if name in args.skip:
                continue
            seconds, peak = measure(argv, args.repeat)
            bare = seconds if name == "bare" else bare
            ratio = f"{seconds / bare:>8.2f}×" if bare else ""
            print(f"{name:<10}{seconds:>10.2f}{peak:>10.0f}{ratio}", flush=True)
        report = out / "report.html"
        if report.exists():
            print(f"report size: {report.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
