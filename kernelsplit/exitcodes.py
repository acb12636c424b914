"""Process exit codes, the same for every command and output format (like ruff's)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  #: success; for check/diff: nothing at or above the failure threshold
    FINDINGS = 1  #: check found problems / diff found breaking changes
    ERROR = 2  #: a file could not be read, bad usage or bad configuration
    NO_INPUT = 3  #: check: no model file found at all
