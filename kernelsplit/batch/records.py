"""The records of many files, each read in an isolated worker: the library's way to use the limits.

``inspect_records(paths)`` is ``map(inspect_record, paths)`` with every file read in a worker
process under a time and a memory limit: a hang, a crash or an exhausted limit becomes that
file's record with an ``error`` object (``timeout``, ``crashed``, ``too-large``), in input order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import Failure, KernelsplitError
from .limits import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, Limits, default_jobs
from .pool import Call, run_calls

if TYPE_CHECKING:
    from ..check.engine import CheckedArtifact


def _records(
    step: str,
    paths: Iterable[str | os.PathLike[str]],
    failed: Callable[[str, KernelsplitError], dict[str, Any]],
    jobs: int | None,
    timeout: float | None,
    max_memory: int | None,
) -> Iterator[dict[str, Any]]:
    """``step`` of every path in a worker, in order; a file the worker gave no answer for: ``failed``."""
    calls = [Call(step, (str(p),), str(p)) for p in paths]
    limits = Limits(jobs=default_jobs() if jobs is None else jobs, timeout=timeout, max_memory=max_memory)
    for outcome in run_calls(calls, limits):
        yield outcome.value if outcome.error is None else failed(outcome.call.path, outcome.error)


def _inspect_failure(path: str, error: KernelsplitError) -> dict[str, Any]:
    from ..render.inspect.json import artifact_dict

    return artifact_dict(Failure(path, error), [])


def check_record_fields(
    path: str, error: KernelsplitError | None, artifact: CheckedArtifact | None = None
) -> dict[str, Any]:
    """``check_record``'s fields, findings empty: all a file that could not be checked has (built
    here, light, so a batch's parent need not import the model for a worker that gave no answer)."""
    from ..jsonutil import error_object

    return {
        "path": path,
        "format": artifact.format if artifact else "unknown",
        "keras_version": artifact.keras_version if artifact else None,
        "layers": len(artifact.layers) if artifact else 0,
        "error": error_object(error) if error else None,
        "findings": [],
    }


def _check_failure(path: str, error: KernelsplitError) -> dict[str, Any]:
    return check_record_fields(path, error)


def inspect_records(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
) -> Iterator[dict[str, Any]]:
    """``inspect_record`` of every path, in order, each read in a worker under the limits."""
    return _records("kernelsplit.batch.steps:inspect_record", paths, _inspect_failure, jobs, timeout, max_memory)


def check_records(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
) -> Iterator[dict[str, Any]]:
    """``check_record`` (default rule settings) of every path, in order, each in a worker under the limits."""
    return _records("kernelsplit.batch.steps:check_record", paths, _check_failure, jobs, timeout, max_memory)
