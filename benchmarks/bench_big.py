"""Big models in seconds with bounded memory: kernelsplit against the naive floor script, as ratios.

Generates (with tf-keras, into a temporary folder, never committed) a 1.07 GB model of 8 x LSTM(2048)
saved as a legacy ``.h5`` and as a ``.keras`` zip, then runs every contender as its own process
(start-up included, as a user runs it), ``--repeat`` rounds with the contenders interleaved, after
one untimed warm-up round (page cache warm). Reported: the median wall time and the median peak RSS
of the child process and the workers it reaped (``os.wait4``'s ``ru_maxrss``), and the ratios the
issue sets as targets:

* ``inspect --format json`` on the 1 GB ``.h5``: >= 3x faster than ``floor.py`` (naive h5py +
  numpy: read all, sha256, float64 statistics), peak RSS <= 300 MiB;
* the same on the ``.keras``: within 1.2x of the ``.h5``, same memory bound;
* ``check`` on the 1 GB ``.h5``: within 1.5x of ``inspect``;
* a small file (``fixtures/tf_keras/zoo.h5``): within 1.2x of ``floor.py`` (start-up time; files
  are read in a worker process by default, ``--in-process`` also times ``--jobs 0``).

Usage: ``python benchmarks/bench_big.py [--repeat 5] [--workdir DIR] [--baseline DIR] [--small-only]
[--in-process]``.
Children byte-compile into ``WORKDIR/pycache`` in the warm-up round (as ``pip install`` compiles a
package), never into the source tree.
``--workdir`` keeps the generated models there for the next run (default: a temporary folder,
deleted at the end); ``--baseline`` also measures another source tree (e.g. ``git archive main``
unpacked somewhere), interleaved with this one so both see the same machine load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FLOOR = HERE / "floor.py"
SMALL = REPO / "fixtures" / "tf_keras" / "zoo.h5"
MIB = 1 << 20

GENERATE = textwrap.dedent("""
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tf_keras as keras
    layers, units = 8, 2048
    model = keras.Sequential([keras.Input((None, units))])
    for k in range(layers):
        model.add(keras.layers.LSTM(units, return_sequences=k < layers - 1, name=f"lstm_{k}",
                                    kernel_initializer="zeros", recurrent_initializer="zeros"))
    rng = np.random.default_rng(0)
    for layer in model.layers:  # trained-like weights: normal x 0.05, one layer at a time
        layer.set_weights([(rng.standard_normal(w.shape, dtype=np.float32) * 0.05) for w in layer.get_weights()])
    model.save(sys.argv[1])
    model.save(sys.argv[2])
""")


def generate(folder: Path) -> tuple[Path, Path]:
    h5, keras = folder / "big_8xlstm2048.h5", folder / "big_8xlstm2048.keras"
    if not (h5.exists() and keras.exists()):
        print(f"generating the 8 x LSTM(2048) model in {folder} (tf-keras, about a minute)...", flush=True)
        subprocess.run([sys.executable, "-c", GENERATE, str(h5), str(keras)], check=True)
    return h5, keras


def run_once(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process.

    ``cwd`` is a folder without a ``kernelsplit`` package: ``python -m`` puts the working folder
    first on ``sys.path``, ahead of ``PYTHONPATH``.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    assert proc.stderr is not None
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # check exits 1 on findings
        raise SystemExit(f"failed ({code}): {' '.join(argv)}\n{proc.stderr.read().decode(errors='replace')}")
    proc.stderr.close()
    return seconds, usage.ru_maxrss * 1024 / MIB


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (median reported)")
    parser.add_argument("--workdir", type=Path, help="keep the generated models here (default: temporary)")
    parser.add_argument("--checkout", type=Path, default=REPO, help="the kernelsplit source tree to measure")
    parser.add_argument("--baseline", type=Path, help="also measure this source tree (e.g. main), interleaved")
    parser.add_argument("--skip-check", action="store_true", help="do not time check")
    parser.add_argument("--small-only", action="store_true", help="only the small-file (start-up) contenders")
    parser.add_argument(
        "--in-process", action="store_true", help="also time the small file read in-process (--jobs 0, no worker)"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kernelsplit-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    try:
        # --small-only needs no big model: its paths are only named, never read.
        h5, keras = (workdir / "big.h5", workdir / "big.keras") if args.small_only else generate(workdir)
        trees = {"": args.checkout} | ({"baseline ": args.baseline} if args.baseline else {})
        contenders: dict[str, tuple[list[str], dict[str, str]]] = {}
        # Byte-compiled once (in the warm-up round), as pip compiles an installed package, and never
        # into the source tree: compiling kernelsplit's sources on every run would dominate start-up.
        plain_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        plain_env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
        contenders["floor 1GB.h5"] = ([python, str(FLOOR), str(h5)], plain_env)
        contenders["floor small"] = ([python, str(FLOOR), str(SMALL)], plain_env)
        for prefix, tree in trees.items():
            env = {**plain_env, "PYTHONPATH": str(tree.resolve())}
            kernelsplit = [python, "-m", "kernelsplit"]
            contenders[f"{prefix}inspect 1GB.h5"] = ([*kernelsplit, "inspect", "--format", "json", str(h5)], env)
            contenders[f"{prefix}inspect 1GB.keras"] = ([*kernelsplit, "inspect", "--format", "json", str(keras)], env)
            if not args.skip_check:
                contenders[f"{prefix}check 1GB.h5"] = ([*kernelsplit, "check", "--format", "json", str(h5)], env)
            contenders[f"{prefix}inspect small"] = ([*kernelsplit, "inspect", "--format", "json", str(SMALL)], env)
            if prefix == "" and args.in_process:
                in_process = [*kernelsplit, "inspect", "--format", "json", "--jobs", "0", str(SMALL)]
                contenders["inspect small --jobs 0"] = (in_process, env)
        if args.small_only:
            contenders = {name: value for name, value in contenders.items() if "small" in name}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        model = "no big model" if args.small_only else f"{h5.stat().st_size / 1e9:.2f} GB model"
        print(f"{model}; {args.repeat} rounds after 1 warm-up; checkout {args.checkout}")
        for round_ in range(args.repeat + 1):
            for name, (argv, env) in contenders.items():
                result = run_once(argv, env, workdir)
                if round_:
                    runs[name].append(result)
        medians = {
            name: (statistics.median(s for s, _ in rs), statistics.median(p for _, p in rs))
            for name, rs in runs.items()
        }
        print(f"{'contender':<28}{'median s':>10}{'min s':>8}{'max s':>8}{'peak MiB':>10}")
        for name, rs in runs.items():
            times = [s for s, _ in rs]
            print(f"{name:<28}{medians[name][0]:>10.3f}{min(times):>8.3f}{max(times):>8.3f}{medians[name][1]:>10.0f}")
        for prefix in trees:
            if args.small_only:
                ratio = medians[f"{prefix}inspect small"][0] / medians["floor small"][0]
                print(f"{prefix or 'this checkout '}inspect small / floor {ratio:.2f} (target <= 1.2)")
                if not prefix and "inspect small --jobs 0" in medians:
                    ratio = medians["inspect small --jobs 0"][0] / medians["floor small"][0]
                    print(f"this checkout inspect small --jobs 0 / floor {ratio:.2f} (in-process: no worker to start)")
            else:
                report(medians, prefix)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def report(medians: dict[str, tuple[float, float]], prefix: str = "") -> None:
    def seconds(name: str) -> float:
        return medians[prefix + name][0] if not name.startswith("floor") else medians[name][0]

    def peak(name: str) -> float:
        return medians[prefix + name][1]

    lines = [
        ("floor / inspect 1GB.h5", seconds("floor 1GB.h5") / seconds("inspect 1GB.h5"), ">= 3", 3.0, True),
        ("peak MiB inspect 1GB.h5", peak("inspect 1GB.h5"), "<= 300", 300.0, False),
        ("inspect .keras / .h5", seconds("inspect 1GB.keras") / seconds("inspect 1GB.h5"), "<= 1.2", 1.2, False),
        ("peak MiB inspect 1GB.keras", peak("inspect 1GB.keras"), "<= 300", 300.0, False),
        ("inspect small / floor", seconds("inspect small") / seconds("floor small"), "<= 1.2", 1.2, False),
    ]
    if prefix + "check 1GB.h5" in medians:
        check = seconds("check 1GB.h5") / seconds("inspect 1GB.h5")
        lines.insert(4, ("check / inspect 1GB.h5", check, "<= 1.5", 1.5, False))
        lines.insert(5, ("peak MiB check 1GB.h5", peak("check 1GB.h5"), "<= 300", 300.0, False))
    print(f"\n{prefix or 'this checkout '}{'':<14}{'value':>9}  {'target':<8}")
    for label, value, target, bound, at_least in lines:
        met = value >= bound if at_least else value <= bound
        print(f"{label:<28}{value:>9.2f}  {target:<8}{'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
