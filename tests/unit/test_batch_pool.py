"""The worker pool: input order, and a hang, a native crash or an exhausted limit as that call's error.

Steps that misbehave on purpose live in tests/support/steps.py; a fresh pool (not the process-wide
one the CLI shares) runs them with ``tests/`` on the workers' PYTHONPATH.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from support.paths import REPO

from kernelsplit.batch.limits import Limits, parse_size
from kernelsplit.batch.pool import Call, WorkerPool
from kernelsplit.errors import CorruptFileError, CrashedError, ReadTimeoutError, TooLargeError, UsageError


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerPool]:
    paths = [str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    created = WorkerPool(1 << 30)
    yield created
    created.close()


def call(name: str, *args: object, path: str = "") -> Call:
    return Call(f"support.steps:{name}", args, path or name)


def test_outcomes_come_in_input_order_from_several_workers(pool: WorkerPool) -> None:
    calls = [call("pid_after", 0.6 - 0.1 * k, path=f"f{k}") for k in range(6)]
    outcomes = list(pool.run(calls, Limits(jobs=3, timeout=30)))
    assert [o.call.path for o in outcomes] == [f"f{k}" for k in range(6)]
    assert all(o.error is None for o in outcomes)
    assert len({o.value for o in outcomes}) == 3  # three worker processes shared the calls


def test_a_hang_a_crash_and_a_memory_bomb_are_each_one_error_and_the_batch_goes_on(pool: WorkerPool) -> None:
    calls = [
        call("pid_after", 0, path="ok-before"),
        call("hang", path="hung.h5"),
        call("segfault", path="crash.h5"),
        call("allocate", 2048, path="big.h5"),
        call("refuse", "bad bytes", path="bad.h5"),
        call("pid_after", 0, path="ok-after"),
    ]
    done: list[str] = []
    outcomes = list(pool.run(calls, Limits(jobs=2, timeout=10, max_memory=1 << 30), lambda o: done.append(o.call.path)))
    errors = {o.call.path: o.error for o in outcomes}
    assert errors["ok-before"] is None and errors["ok-after"] is None
    assert isinstance(errors["hung.h5"], ReadTimeoutError) and errors["hung.h5"].code == "timeout"
    assert isinstance(errors["crash.h5"], CrashedError) and "SIGSEGV" in errors["crash.h5"].message
    assert isinstance(errors["big.h5"], TooLargeError) and errors["big.h5"].code == "too-large"
    assert isinstance(errors["bad.h5"], CorruptFileError) and errors["bad.h5"].message == "bad bytes"
    assert all(error.path == path for path, error in errors.items() if error is not None)
    assert sorted(done) == sorted(errors)


def test_a_crash_is_blamed_on_the_file_being_read(pool: WorkerPool) -> None:
    [outcome] = pool.run([call("crash_while_reading", "old.h5", "new.h5", path="old.h5")], Limits(jobs=1))
    assert isinstance(outcome.error, CrashedError) and outcome.error.path == "new.h5"


def test_sizes() -> None:
    assert parse_size("4G") == 4 << 30
    assert parse_size("512m") == 512 << 20
    assert parse_size("1.5GiB") == 3 << 29
    assert parse_size("0") is None and parse_size("none") is None
    for bad in ("lots", "12", "-1G"):
        with pytest.raises(UsageError):
            parse_size(bad)
