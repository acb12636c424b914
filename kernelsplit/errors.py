"""Errors with stable codes: every failure kernelsplit reports maps to exactly one of these.

Each class carries its machine-readable ``code`` (part of every versioned JSON schema) and the
process ``exit_code`` the command line ends with. Library code raises them; the CLI has one
handler (``kernelsplit.cli``) that prints ``kernelsplit: error: PATH: message`` and exits. A
file's error names the file in ``path`` (set by the library where the path is known).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .exitcodes import ExitCode


class KernelsplitError(Exception):
    """Base class. ``code`` is a stable machine-readable identifier."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[ExitCode] = ExitCode.ERROR

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The file (or folder) the error is about, when one is.
        self.path = path

    def __str__(self) -> str:  # KeyError subclasses would otherwise quote the message
        return self.message

    def at(self, path: str) -> KernelsplitError:
        """This error, naming ``path`` unless it already names a file."""
        if self.path is None:
            self.path = path
        return self


# -------------------------------------------------------------------------- reading a model file


class NotFoundError(KernelsplitError):
    code = "not-found"


class NotAModelError(KernelsplitError):
    """The file exists but is not any Keras model/weights format we know."""

    code = "not-a-model"


class CorruptFileError(KernelsplitError):
    """The file claims a known format but is truncated or internally inconsistent."""

    code = "corrupt"


class UnsupportedError(KernelsplitError):
    """A real Keras artifact whose layout we cannot read without guessing."""

    code = "unsupported"


class LfsPointerError(KernelsplitError):
    """The file is a Git LFS pointer (a few lines of text naming the real file), not the model."""

    code = "lfs-pointer"


class IncompleteError(KernelsplitError):
    """The stored config names a recurrent layer whose weights the file does not hold (or not where
    any Keras that wrote such a file puts them): reporting the others would be silently incomplete."""

    code = "incomplete"


class UnsafeFileError(KernelsplitError):
    """Reading the file would require running code or following links out of it."""

    code = "unsafe"


class AmbiguousFileError(KernelsplitError):
    """The file says one thing twice (duplicate JSON keys, zip members, layer names): two readers
    could see two different models, so none is reported."""

    code = "ambiguous"


# ------------------------------------------------------------- limits of one file's read (docs/architecture.md)


class TooLargeError(KernelsplitError):
    """Reading the file would pass a bound: the worker's memory limit (``--max-memory``), or a count
    or size the file declares beyond what kernelsplit reads (layers, names, parameters, members)."""

    code = "too-large"


class ReadTimeoutError(KernelsplitError):
    """Reading the file took longer than the per-file time limit (``--timeout``); the worker was stopped."""

    code = "timeout"


class CrashedError(KernelsplitError):
    """The worker process reading the file died (a native crash in libhdf5 or numpy on its bytes)."""

    code = "crashed"


# ------------------------------------------------------------------------- usage and configuration


class UsageError(KernelsplitError):
    code = "usage"


class UnknownBlockError(UsageError, KeyError):
    """A library lookup of a (part, gate) block the layer does not have (also a ``KeyError``)."""


class ConfigError(UsageError):
    """``[tool.kernelsplit]`` / ``kernelsplit.toml`` / ``--config`` is unreadable or invalid."""

    code = "config"


class UnknownMathsError(KernelsplitError):
    """What a layer computes is not recorded in its file (activations, GRU form, convolution...):
    running it would need a guess, which is refused unless the user makes it explicitly."""

    code = "unknown-maths"


class RuleFailure(KernelsplitError):
    """A check rule raised on an artifact (a hostile value no rule anticipated); the others still ran."""

    code = "rule-failed"


# ------------------------------------------------------------------------------------------ export


class ExportRefusedError(KernelsplitError):
    """A layer has no equivalent in the requested layout or file format (the message says why)."""

    code = "export-refused"


class NothingToExportError(UsageError):
    """The filters (or the file) leave no array to write: a mistake in a script, not an empty success."""

    code = "nothing-matched"


class OutputExistsError(KernelsplitError):
    code = "output-exists"


class OutputError(KernelsplitError):
    """An output file or folder cannot be created or written."""

    code = "unwritable"


# ------------------------------------------------------------------------------- optional extras


class MissingDependencyError(KernelsplitError):
    """A feature needs an optional extra that is not installed (the message names the pip command)."""

    code = "missing-dependency"


# ----------------------------------------------------------------------------------------- bugs


class InternalError(KernelsplitError):
    """kernelsplit itself failed (a bug): reported, never disguised as a problem with the file."""

    code = "internal"


@dataclass(frozen=True)
class Failure:
    """A file that could not be read: ``kernelsplit.try_open`` returns this instead of raising.

    Defined here, not beside ``Artifact`` in ``model.py``, so the CLI process can report files its
    workers failed to read without importing numpy (docs/architecture.md, "Isolation").
    """

    path: str
    error: KernelsplitError
