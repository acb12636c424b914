"""The limits one file's read runs under: wall time, address space, and the number of workers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import UsageError

#: Seconds one file may take (diff: per file, so twice for the pair). A 1 GB model is read and
#: checked in seconds; a file still running after five minutes is hung or hostile.
DEFAULT_TIMEOUT = 300.0
#: Address space of one worker process. Python, numpy and h5py take ~0.5 GiB of it before the
#: first byte is read; a model's tensors are read once more than their size at most.
DEFAULT_MAX_MEMORY = 4 << 30

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


@dataclass(frozen=True)
class Limits:
    """Per file: ``timeout`` seconds of wall time and ``max_memory`` bytes of address space for its worker.

    ``None`` means unlimited. ``jobs`` is how many workers run at once; ``0`` reads in this process,
    with no limit and no isolation (debugging only: a hostile file can then hang or crash the run).
    """

    jobs: int = 0
    timeout: float | None = DEFAULT_TIMEOUT
    max_memory: int | None = DEFAULT_MAX_MEMORY

    @property
    def isolated(self) -> bool:
        return self.jobs > 0


def default_jobs() -> int:
    """The CPUs this process may run on (the affinity mask, not the machine's count, where known)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def parse_size(text: str) -> int | None:
    """``4G``, ``512M``, ``1.5g``, ``1073741824``; ``0``/``none`` for no limit."""
    value = text.strip().lower()
    if value in ("0", "none", "unlimited"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", value)
    if not match:
        raise UsageError(f"--max-memory: {text!r} is not a size like 4G, 512M or 0 (no limit)")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size < 256 << 20:
        raise UsageError(f"--max-memory: {text} is below 256M, less than Python and numpy need to start")
    return size


def describe_size(size: int) -> str:
    for unit, factor in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size} bytes"
