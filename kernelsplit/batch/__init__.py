"""Many files, each read where it cannot hurt the run: worker processes with time and memory limits.

``steps`` holds the one-artifact steps (plain, picklable functions; :func:`inspect_record` and
:func:`check_record` are the public JSON-ready records), ``pool`` the worker processes that run
them, ``limits`` the defaults (docs/architecture.md, "Isolation"). Names load on first use, so
the command line's option parsing does not pay for numpy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .limits import Limits as Limits
    from .pool import Call as Call
    from .pool import Outcome as Outcome
    from .pool import run_calls as run_calls
    from .pool import run_one as run_one
    from .records import check_records as check_records
    from .records import inspect_records as inspect_records
    from .steps import check_record as check_record
    from .steps import inspect_record as inspect_record

_LAZY = {
    "Limits": "limits",
    "Call": "pool",
    "Outcome": "pool",
    "run_calls": "pool",
    "run_one": "pool",
    "inspect_records": "records",
    "check_records": "records",
    "check_record": "steps",
    "inspect_record": "steps",
}

__all__ = sorted(_LAZY)

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module 'kernelsplit.batch' has no attribute {name!r}")
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
