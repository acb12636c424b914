"""The records of many files, each read in an isolated worker: the library's way to use the limits.

``inspect_records(paths)`` is ``map(inspect_record, paths)`` with every file read in a worker
process under a time and a memory limit: a hang, a crash or an exhausted limit becomes that
file's record with an ``error`` object (``timeout``, ``crashed``, ``too-large``), in input order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from ..jsonutil import error_object
from .limits import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, Limits, default_jobs
from .pool import Call, run_calls


def _limits(jobs: int | None, timeout: float | None, max_memory: int | None) -> Limits:
    return Limits(jobs=default_jobs() if jobs is None else jobs, timeout=timeout, max_memory=max_memory)


def inspect_records(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
) -> Iterator[dict[str, Any]]:
    """``inspect_record`` of every path, in order, each read in a worker under the limits."""
    calls = [Call("kernelsplit.batch.steps:inspect_record", (str(p),), str(p)) for p in paths]
    for outcome in run_calls(calls, _limits(jobs, timeout, max_memory)):
        if outcome.error is None:
            yield outcome.value
        else:
            yield {
                "path": outcome.call.path,
                "format": "unknown",
                "keras_version": None,
                "backend": None,
                "executable_layers": [],
                "notes": [],
                "layers": [],
                "error": error_object(outcome.error),
            }


def check_records(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
) -> Iterator[dict[str, Any]]:
    """``check_record`` (default rule settings) of every path, in order, each in a worker under the limits."""
    calls = [Call("kernelsplit.batch.steps:check_record", (str(p),), str(p)) for p in paths]
    for outcome in run_calls(calls, _limits(jobs, timeout, max_memory)):
        if outcome.error is None:
            yield outcome.value
        else:
            yield {
                "path": outcome.call.path,
                "format": "unknown",
                "keras_version": None,
                "layers": 0,
                "error": error_object(outcome.error),
                "findings": [],
            }
