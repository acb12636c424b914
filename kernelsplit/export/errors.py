"""Export failures, each with a stable ``code`` (all exit 2 on the command line)."""

from __future__ import annotations

from ..errors import KernelsplitError, UsageError


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
