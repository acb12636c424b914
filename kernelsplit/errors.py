"""Errors with stable codes: every failure kernelsplit reports maps to exactly one of these.

The CLI prints ``kernelsplit: error: PATH: message`` and exits 2 for any of them; JSON output
carries ``{"code": ..., "message": ...}``. Codes are part of the versioned output schema.
"""

from __future__ import annotations


class KernelsplitError(Exception):
    """Base class. ``code`` is a stable machine-readable identifier."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class UnsafeFileError(KernelsplitError):
    """Reading the file would require running code or following links out of it."""

    code = "unsafe"


class UsageError(KernelsplitError):
    code = "usage"


class RuleFailure(KernelsplitError):
    """A check rule raised on an artifact (a hostile value no rule anticipated); the others still ran."""

    code = "rule-failed"


# Export (kernelsplit export): all exit 2 on the command line.


class ExportRefusedError(KernelsplitError):
    """A layer has no equivalent in the requested layout or file format (the message says why)."""

    code = "export-refused"


class NothingToExportError(UsageError):
    """The filters (or the file) leave no array to write: a mistake in a script, not an empty success."""

    code = "nothing-matched"


class OutputExistsError(KernelsplitError):
    code = "output-exists"


class OutputError(KernelsplitError):
    """The output folder cannot be created or written."""

    code = "unwritable"
