"""Steps that misbehave on purpose, run in kernelsplit's worker processes by the pool tests.

Workers import them as ``support.steps:NAME`` (the tests put ``tests/`` on their PYTHONPATH).
"""

from __future__ import annotations

import os
import signal
import time

from kernelsplit.batch.worker import reading


def pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def hang() -> None:
    while True:
        time.sleep(1)


def segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def allocate(megabytes: int) -> int:
    block = bytearray(megabytes << 20)
    return len(block)


def crash_while_reading(first: str, second: str) -> None:
    reading(first)
    reading(second)
    os.kill(os.getpid(), signal.SIGSEGV)


def refuse(message: str) -> None:
    from kernelsplit.errors import CorruptFileError

    raise CorruptFileError(message)
