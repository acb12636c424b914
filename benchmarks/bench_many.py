"""Many small files: ``kernelsplit inspect`` over 300 files with 1 and with 2 worker processes.

Copies small fixtures (legacy ``.h5``, ``.keras``, ``.weights.h5``, 3-15 recurrent cells each) to
300 distinct files in a temp folder, then runs ``kernelsplit inspect --format jsonl --jobs N`` on all
of them as one process (start-up included), ``--repeat`` times, and prints the median wall time
per N and the speed-up of 2 jobs over 1. ``--jobs 0`` (in-process, no isolation) is the floor the
isolation is measured against. The issue's target: 2 jobs at least 1.6x faster than 1.

Usage: ``python benchmarks/bench_many.py [--files 300] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCES = [
    FIXTURES / "tf_keras" / "zoo.h5",
    FIXTURES / "keras3" / "seq_dedup.keras",
    FIXTURES / "keras3" / "zoo.weights.h5",
    FIXTURES / "rules" / "healthy.h5",
    FIXTURES / "keras3" / "zoo.keras",
]


def make_files(folder: Path, count: int) -> list[str]:
    paths = []
    for index in range(count):
        source = SOURCES[index % len(SOURCES)]
        target = folder / f"m{index:04d}{''.join(source.suffixes)}"
        shutil.copy(source, target)
        paths.append(str(target))
    return paths


def run(paths: list[str], jobs: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kernelsplit", "inspect", "--format", "jsonl", "--jobs", str(jobs), *paths],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_files(Path(tmp), args.files)
        results = {jobs: run(paths, jobs, args.repeat) for jobs in (0, 1, 2)}
    print(f"{args.files} files, median of {args.repeat} runs")
    for jobs, seconds in results.items():
        label = "in-process (--jobs 0)" if jobs == 0 else f"{jobs} worker(s)"
        print(f"  {label:<24}{seconds:>8.2f} s  {args.files / seconds:>7.0f} files/s")
    print(f"  speed-up 2 jobs / 1 job: {results[1] / results[2]:.2f}x (target >= 1.6x)")
    print(f"  isolation cost, 1 worker vs in-process: {results[1] / results[0]:.2f}x")


if __name__ == "__main__":
    main()
