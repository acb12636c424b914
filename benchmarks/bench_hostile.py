"""Hostile samples: wall time and peak memory of every command on every file of the hostile corpus.

Builds the corpus the tests use (``tests/support/hostile.py``: hangs, bombs, injections, unbounded
work, code, rough edges) in a temp folder and runs ``kernelsplit inspect --format jsonl`` and
``kernelsplit check --format json`` on each file as its own process, with the default limits.
Prints per file the exit code, the error code, the wall time and the peak RSS of the whole process
tree (the worker is reaped before kernelsplit exits, so ``wait4`` sees it), then the worst of each.
What the threat model promises: every file ends in seconds, within the memory limit, with exit
0, 1 or 2.

Usage: ``python benchmarks/bench_hostile.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.hostile import build  # noqa: E402 (the corpus generator lives with the tests)


def run(argv: list[str]) -> tuple[int, float, float, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss / 1024, out.decode()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build(Path(tmp))
        python = [sys.executable, "-m", "kernelsplit"]
        print(f"{'class':<10}{'file':<52}{'command':<9}{'exit':>5}{'code':>13}{'seconds':>9}{'peak MiB':>10}")
        worst_time, worst_rss, exits = 0.0, 0.0, set()
        for hostile in corpus:
            for command, argv in (
                ("inspect", [*python, "inspect", "--format", "jsonl", str(hostile.path)]),
                ("check", [*python, "check", "--format", "json", "--fail-on", "none", str(hostile.path)]),
            ):
                status, seconds, rss, out = run(argv)
                code = ""
                if status == 2 and out.strip():
                    data = json.loads(out if command == "check" else out.splitlines()[0])
                    errors = [data.get("error")] if command == "inspect" else [a["error"] for a in data["artifacts"]]
                    code = next((e["code"] for e in errors if e), "")
                worst_time, worst_rss = max(worst_time, seconds), max(worst_rss, rss)
                exits.add(status)
                name = hostile.name.encode("unicode_escape").decode()[:50]
                print(f"{hostile.klass:<10}{name:<52}{command:<9}{status:>5}{code:>13}{seconds:>9.2f}{rss:>10.0f}")
        summary = f"slowest {worst_time:.2f} s, largest {worst_rss:.0f} MiB, exit codes {sorted(exits)}"
        print(f"{len(corpus)} files x 2 commands: {summary}")


if __name__ == "__main__":
    main()
