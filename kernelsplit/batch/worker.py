"""A worker process: reads files for the parent, one call at a time, under an address-space limit.

Started by :mod:`kernelsplit.batch.pool` as ``python -m kernelsplit.batch MAX_MEMORY PARENT_PID``
(it dies with that parent, even mid-file: :func:`_die_with_parent`). It
speaks length-prefixed pickle frames: calls arrive on stdin, answers leave on the original stdout,
and fd 1 is pointed at ``/dev/null`` first so nothing a library prints can corrupt a frame. Only the
parent (kernelsplit itself) writes the calls, never a file: pickle is safe here.

Frames from the worker: ``("ready", pid)`` once started; ``("at", path)`` when a call starts reading
another file (so a crash or hang is blamed on the right one); ``("done", ok, value)`` per call.
A ``MemoryError`` is answered as ``too-large`` and the worker then exits, so the next file starts
in a fresh process (docs/architecture.md, "Isolation").
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import struct
import sys
from typing import IO, Any

_HEADER = struct.Struct("<Q")
#: Environment variables a call carries from the parent's current state (tests change them).
CALL_ENV = ("NO_COLOR", "COLUMNS", "TERM", "COLORTERM", "FORCE_COLOR", "KERNELSPLIT_DEBUG", "GITHUB_STEP_SUMMARY")

_out: IO[bytes] | None = None
#: linux/prctl.h
_PR_SET_PDEATHSIG = 1


def write_frame(stream: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:  # unbuffered pipes may take part of a write
        written = stream.write(view)
        view = view[written if written is not None else 0 :]
    stream.flush()


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    """``size`` bytes from an unbuffered pipe (no hidden buffer, so ``select`` tells the truth)."""
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: IO[bytes]) -> Any:
    (size,) = _HEADER.unpack(_read_exact(stream, _HEADER.size))
    return pickle.loads(_read_exact(stream, size))  # frames come from kernelsplit's own processes


def reading(path: str) -> None:
    """Tell the parent which file this call reads now (no-op outside a worker)."""
    if _out is not None:
        write_frame(_out, ("at", path))


def resolve(name: str) -> Any:
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _limit_memory(max_memory: int) -> None:
    if max_memory <= 0:
        return
    try:
        import resource
    except ImportError:  # not on this platform: the time limit still holds
        return
    for limit in ("RLIMIT_AS", "RLIMIT_DATA"):
        which = getattr(resource, limit, None)
        if which is None:
            continue
        try:
            _, hard = resource.getrlimit(which)
            wanted = max_memory if hard == resource.RLIM_INFINITY else min(max_memory, hard)
            resource.setrlimit(which, (wanted, hard))
            return
        except (ValueError, OSError):
            continue


def _die_with_parent(parent: int) -> None:
    """End this worker when its parent ends, even while it is stuck in a file that hangs.

    On Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``); a parent that
    died before that was set is caught by comparing ``getppid`` afterwards. Elsewhere the worker
    notices at its next read of the calls pipe (EOF), and the parent's ``finally`` blocks and
    SIGTERM handling stop busy workers (docs/architecture.md, "Isolation").
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent and os.getppid() != parent:
        os._exit(0)


def _apply_env(env: dict[str, str]) -> None:
    for key in CALL_ENV:
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)


def _answer(function: Any, args: tuple[Any, ...]) -> tuple[bool, Any, bool]:
    """(ok, value or error, keep running)."""
    from ..errors import InternalError, KernelsplitError, TooLargeError

    try:
        return True, function(*args), True
    except KernelsplitError as exc:
        return False, exc, True
    except MemoryError:
        return False, TooLargeError("needs more memory than the worker's limit (--max-memory)"), False
    except Exception as exc:
        text = (str(exc).strip().splitlines() or [""])[0][:200]
        return False, InternalError(f"internal error: {type(exc).__name__}: {text}"), True


def main(argv: list[str]) -> int:
    global _out
    max_memory = int(argv[1]) if len(argv) > 1 else 0
    _die_with_parent(int(argv[2]) if len(argv) > 2 else 0)
    calls = os.fdopen(0, "rb", buffering=0)
    _out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)

    import warnings

    warnings.simplefilter("ignore")  # a worker has no one to warn: stderr is not the user's
    from . import steps  # noqa: F401 (import numpy, h5py and the readers before the limit)

    _limit_memory(max_memory)
    write_frame(_out, ("ready", os.getpid()))
    while True:
        try:
            cwd, env, name, args = read_frame(calls)
        except EOFError:
            os._exit(0)  # nothing to clean up: skipping interpreter teardown makes the parent's exit prompt
        _apply_env(env)
        with contextlib.suppress(OSError):
            os.chdir(cwd)
        ok, value, keep = _answer(resolve(name), args)
        try:
            write_frame(_out, ("done", ok, value))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            from ..errors import InternalError

            write_frame(_out, ("done", False, InternalError(f"internal error: unpicklable answer ({exc})")))
        if not keep:
            os._exit(0)
