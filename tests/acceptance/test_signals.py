"""Ending a run from outside: Ctrl-C exits 130, SIGTERM 143, and no worker process outlives the CLI.

The CLI runs in a subprocess as ``python -m kernelsplit inspect --jobs 1 FILE`` with its per-file
step swapped for a 60-second sleep in the worker (the parent's ``run_calls`` is wrapped before the
CLI starts), so a worker is busy on a "hanging file" when the signal arrives. The parent says its
worker's pid on stderr first: the signal is sent only once the worker exists, never on a timer.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest
from support.paths import FIXTURES, REPO

DRIVER = """
import sys
from kernelsplit.batch import pool

original = pool.run_calls

def hanging(calls, limits, on_done=None):
    calls = [pool.Call("time:sleep", (60,), c.path) for c in calls]
    pool.pool_for(limits).warm(1)
    print(*(w.process.pid for w in pool.pool_for(limits).idle), file=sys.stderr, flush=True)
    return original(calls, limits, on_done)

pool.run_calls = hanging
sys.argv = ["kernelsplit", *sys.argv[1:]]
from kernelsplit.cli import main
main()
"""


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie no one reaps counts as gone: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the worker")
@pytest.mark.parametrize(
    ("signum", "status"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -signal.SIGKILL)],
    ids=["ctrl-c", "sigterm", "sigkill"],
)
def test_a_signal_ends_the_run_and_its_workers(signum: int, status: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("KERNELSPLIT_DEBUG", None)
    parent = subprocess.Popen(
        [sys.executable, "-c", DRIVER, "inspect", "--jobs", "1", str(FIXTURES / "rules" / "healthy.keras")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert parent.stderr is not None
        ready, _, _ = select.select([parent.stderr], [], [], 120)
        assert ready, "the CLI never started its worker"
        workers = [int(pid) for pid in parent.stderr.readline().split()]
        assert workers
        time.sleep(0.5)  # let the call reach the worker (the outcome is the same if it has not yet)
        parent.send_signal(signum)
        out, err = parent.communicate(timeout=60)
    finally:
        if parent.poll() is None:
            parent.kill()
    assert parent.returncode == status, err
    assert b"Traceback" not in err and out == b""
    deadline = time.monotonic() + 20  # liveness, not speed: a generous bound
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in workers), "a worker outlived the CLI"
