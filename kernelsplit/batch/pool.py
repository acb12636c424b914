"""Run per-file steps in worker processes: a time limit, a memory limit, and crashes kept apart.

Each call names a plain function (``"kernelsplit.batch.steps:inspect_file"``) and its picklable
arguments. Workers are ``python -m kernelsplit.batch`` processes (not ``multiprocessing``:
they need no ``__main__`` guard, work inside daemonic processes such as a batch engine's workers,
and get a clean environment with one BLAS thread). They are kept between calls and between runs in
one process, so a batch pays the start-up once.

A call that outlives its deadline has its worker killed: ``timeout``. A worker that dies (a
segfault in libhdf5, an abort) gives ``crashed``. A ``MemoryError`` under the address-space limit
gives ``too-large``. Either way the next call gets a fresh worker and the batch goes on. Results
come back in input order, each as soon as every earlier one is done (docs/architecture.md,
"Isolation").
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from multiprocessing.connection import wait as _wait
from pathlib import Path
from typing import IO, Any

from ..errors import CrashedError, InternalError, KernelsplitError, ReadTimeoutError, TooLargeError
from .limits import Limits, describe_size
from .worker import CALL_ENV, read_frame, write_frame

#: Seconds a new worker may take to import numpy, h5py and the readers (a loaded CI machine is slow).
_START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Call:
    """One step: ``function`` (``"module:name"``) applied to ``args``, blamed on ``path`` when it fails."""

    function: str
    args: tuple[Any, ...]
    path: str
    #: Wall-time budget in units of the per-file timeout (diff reads two files: 2).
    files: int = 1
    #: The call renders text for the parent's terminal: it gets the terminal's width as ``COLUMNS``
    #: (a worker has no terminal). False for output to a file or a pipe, which has no width.
    terminal: bool = False


@dataclass
class Outcome:
    """A call's answer: ``value`` when ``error`` is None."""

    call: Call
    value: Any = None
    error: KernelsplitError | None = None


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    calls: IO[bytes]
    answers: IO[bytes]
    ready: bool = False
    #: (index, call, deadline, path being read) while busy.
    busy: tuple[int, Call, float, str] | None = field(default=None)

    def alive(self) -> bool:
        return self.process.poll() is None

    def usable(self) -> bool:
        return self.alive() and not self.calls.closed and not self.answers.closed

    def kill(self) -> None:
        if self.alive():
            with contextlib.suppress(OSError):
                self.process.kill()
        self.reap()

    def reap(self) -> int | None:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None
        for stream in (self.calls, self.answers):
            with contextlib.suppress(OSError):
                stream.close()
        return code


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    # One BLAS/OpenMP thread: a worker is one of --jobs processes, and thread arenas would eat the
    # address-space limit before the first byte is read.
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = "1"
    env.setdefault("MALLOC_ARENA_MAX", "2")
    return env


def _call_env(terminal: bool) -> dict[str, str]:
    """The parent's current :data:`CALL_ENV`, and its terminal's width for a ``terminal`` call."""
    env = {key: os.environ[key] for key in CALL_ENV if key in os.environ}
    if terminal and "COLUMNS" not in env:
        import shutil

        env["COLUMNS"] = str(shutil.get_terminal_size().columns)  # render for the parent's terminal
    return env


def wait(streams: list[Any], timeout: float | None) -> list[Any]:
    """The pipes among ``streams`` with something to read (``select`` on their descriptors)."""
    return list(_wait(streams, timeout=timeout))


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class WorkerPool:
    """Worker processes sharing one memory limit; see the module docstring."""

    def __init__(self, max_memory: int | None) -> None:
        self.max_memory = max_memory
        self.idle: list[_Worker] = []

    # -------------------------------------------------------------------------------- workers
    def _spawn(self) -> _Worker:
        debug = bool(os.environ.get("KERNELSPLIT_DEBUG"))
        process = subprocess.Popen(
            [sys.executable, "-m", "kernelsplit.batch", str(self.max_memory or 0), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if debug else subprocess.DEVNULL,
            env=_worker_env(),
            close_fds=True,
            bufsize=0,
        )
        assert process.stdin is not None and process.stdout is not None
        return _Worker(process, process.stdin, process.stdout)

    def _await_ready(self, workers: list[_Worker]) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        waiting = {w.answers: w for w in workers if not w.ready}
        while waiting:
            ready = wait(list(waiting), timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                for worker in waiting.values():
                    worker.kill()
                raise InternalError(f"internal error: worker processes did not start in {_START_TIMEOUT:.0f} s")
            for stream in ready:
                worker = waiting.pop(stream)
                try:
                    read_frame(worker.answers)
                    worker.ready = True
                except EOFError:
                    code = worker.reap()
                    raise InternalError(
                        f"internal error: a worker process failed to start (exit status {code}; "
                        "set KERNELSPLIT_DEBUG=1 to see its output)"
                    ) from None

    def _take(self, count: int) -> list[_Worker]:
        """``count`` ready workers: idle (or warming) ones first, new ones started together."""
        taken: list[_Worker] = []
        while self.idle and len(taken) < count:
            worker = self.idle.pop()
            if worker.usable():
                taken.append(worker)
            else:
                worker.kill()
        taken += [self._spawn() for _ in range(count - len(taken))]
        try:
            self._await_ready(taken)
        except BaseException:
            for worker in taken:
                worker.kill()
            raise
        return taken

    def warm(self, count: int) -> None:
        """Start workers now, without waiting, so their imports overlap the caller's own work."""
        self.idle += [self._spawn() for _ in range(max(0, count - len(self.idle)))]

    def close(self, wait_for_exit: bool = True) -> None:
        """End the idle workers: EOF on their input makes them return."""
        for worker in self.idle:
            with contextlib.suppress(OSError):
                worker.calls.close()
        if wait_for_exit:
            for worker in self.idle:
                if worker.reap() is None:
                    worker.kill()
        self.idle.clear()

    # ------------------------------------------------------------------------------------ run
    def run(
        self,
        calls: Iterable[Call],
        limits: Limits,
        on_done: Callable[[Outcome], None] | None = None,
    ) -> Generator[Outcome, None, None]:
        """Outcomes in the order of ``calls``, each yielded once it and all before it are done."""
        pending = deque(enumerate(calls))
        if not pending:
            return
        jobs = max(1, limits.jobs)
        free: list[_Worker] = []
        busy: dict[Any, _Worker] = {}
        finished: dict[int, Outcome] = {}
        next_out = 0
        try:
            while pending or busy:
                wanted = min(jobs, len(busy) + len(pending))
                if len(free) + len(busy) < wanted:
                    free += self._take(wanted - len(free) - len(busy))
                while pending and free:
                    worker = free.pop()
                    index, call = pending.popleft()
                    timeout = limits.timeout * call.files if limits.timeout else None
                    deadline = time.monotonic() + timeout if timeout else float("inf")
                    try:
                        write_frame(worker.calls, (os.getcwd(), _call_env(call.terminal), call.function, call.args))
                    except OSError:  # died while idle: retry the call on another worker
                        worker.kill()
                        pending.appendleft((index, call))
                        free += self._take(1)
                        continue
                    worker.busy = (index, call, deadline, call.path)
                    busy[worker.answers] = worker
                soonest = min(w.busy[2] for w in busy.values() if w.busy)
                wait_for = None if soonest == float("inf") else max(0.0, soonest - time.monotonic())
                for stream in wait(list(busy), timeout=wait_for):
                    worker = busy[stream]
                    outcome = self._receive(worker, limits)
                    if outcome is None:
                        continue  # an "at" note: still busy
                    del busy[stream]
                    index = worker.busy[0] if worker.busy else -1
                    worker.busy = None
                    finished[index] = outcome
                    if on_done:
                        on_done(outcome)
                    if not worker.alive() or _fatal(outcome):
                        worker.kill()
                    elif pending:
                        free.append(worker)
                    else:  # back to the pool now, not when this generator is finalized (see below)
                        self.idle.append(worker)
                now = time.monotonic()
                for stream, worker in list(busy.items()):
                    if worker.busy and worker.busy[2] <= now:
                        index, call, _, path = worker.busy
                        worker.kill()
                        del busy[stream]
                        seconds = limits.timeout * call.files if limits.timeout else 0
                        error = ReadTimeoutError(
                            f"timeout: still reading after {seconds:g} s (--timeout); the worker was stopped",
                            path=path,
                        )
                        finished[index] = Outcome(call, error=error)
                        if on_done:
                            on_done(finished[index])
                while next_out in finished:
                    yield finished.pop(next_out)
                    next_out += 1
        finally:
            # Also run when an abandoned generator is garbage-collected, possibly in one cycle with
            # the workers' pipes (already closed then): only live workers with open pipes go back.
            for worker in busy.values():
                worker.kill()
            self.idle += [w for w in free if w.usable()]

    def _receive(self, worker: _Worker, limits: Limits) -> Outcome | None:
        assert worker.busy is not None
        index, call, deadline, path = worker.busy
        try:
            frame = read_frame(worker.answers)
        except EOFError:
            code = worker.reap()
            return Outcome(call, error=self._death(code, path, limits))
        except Exception as exc:  # a frame that does not unpickle: kernelsplit's bug, not the file's
            worker.kill()
            return Outcome(call, error=InternalError(f"internal error: bad answer from a worker ({exc})", path=path))
        if frame[0] == "at":
            worker.busy = (index, call, deadline, frame[1])
            return None
        _, ok, value = frame
        if ok:
            return Outcome(call, value=value)
        error: KernelsplitError = value
        if error.path is None:
            error.path = path
        return Outcome(call, error=error)

    def _death(self, code: int | None, path: str, limits: Limits) -> KernelsplitError:
        if code is not None and code < 0:
            how = f"the worker reading it died of {_signal_name(code)}"
        else:
            how = f"the worker reading it exited unexpectedly (status {code})"
        memory = (
            f"; the memory limit was {describe_size(limits.max_memory)} (--max-memory)" if limits.max_memory else ""
        )
        return CrashedError(f"crashed: {how} (a native crash in HDF5 or numpy on this file's bytes{memory})", path=path)


def _fatal(outcome: Outcome) -> bool:
    """Errors after which the worker must not be reused."""
    return isinstance(outcome.error, (TooLargeError, CrashedError, ReadTimeoutError))


_POOLS: dict[int | None, WorkerPool] = {}


def pool_for(limits: Limits) -> WorkerPool:
    """The process-wide pool for ``limits.max_memory`` (workers are kept between runs)."""
    pool = _POOLS.get(limits.max_memory)
    if pool is None:
        pool = _POOLS[limits.max_memory] = WorkerPool(limits.max_memory)
    return pool


@atexit.register
def _close_pools() -> None:
    """At exit the idle workers get EOF and are reaped, so the process's resource usage (what a
    benchmark or CI reads with ``wait4``) includes theirs."""
    for pool in _POOLS.values():
        pool.close()
    _POOLS.clear()


def warm(limits: Limits, files: int) -> None:
    """Start the workers a run of ``files`` files will use (call as early as possible)."""
    if limits.isolated and files:
        pool_for(limits).warm(min(limits.jobs, files))


def run_calls(
    calls: Iterable[Call], limits: Limits, on_done: Callable[[Outcome], None] | None = None
) -> Generator[Outcome, None, None]:
    """Outcomes of ``calls`` in order: in workers under ``limits``, or here when ``limits.jobs == 0``."""
    if limits.isolated:
        yield from pool_for(limits).run(calls, limits, on_done)
        return
    from .worker import resolve

    for call in calls:
        try:
            outcome = Outcome(call, value=resolve(call.function)(*call.args))
        except KernelsplitError as exc:
            if exc.path is None:
                exc.path = call.path
            outcome = Outcome(call, error=exc)
        except MemoryError:
            outcome = Outcome(call, error=TooLargeError("not enough memory to read it", path=call.path))
        if on_done:
            on_done(outcome)
        yield outcome


def run_one(call: Call, limits: Limits) -> Any:
    """The value of one call, or its error raised."""
    with closing(run_calls([call], limits)) as outcomes:
        outcome = next(outcomes)
    if outcome.error is not None:
        raise outcome.error
    return outcome.value
