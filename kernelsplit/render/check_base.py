"""One interface for every ``check`` output format; the command picks a reporter by name.

A reporter turns a :class:`~kernelsplit.check.engine.CheckReport` into text written to a stream.
Unreadable files are also reported on stderr by the command, whatever the format.
"""

from __future__ import annotations

import importlib
import os
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..check.engine import CheckReport

#: format name -> "module:Class" (imported only when used).
CHECK_REPORTERS = {
    "text": "check_text:TextReporter",
    "json": "check_json:JsonReporter",
    "markdown": "check_markdown:MarkdownReporter",
    "sarif": "check_sarif:SarifReporter",
    "github": "check_github:GithubReporter",
}


class CheckReporter(Protocol):
    name: str

    def write(self, report: CheckReport, stream: IO[str]) -> None: ...


def reporter(name: str) -> CheckReporter:
    module, cls = CHECK_REPORTERS[name].split(":")
    return getattr(importlib.import_module(f"kernelsplit.render.{module}"), cls)()


def display_path(path: str) -> str:
    """A path relative to the working folder when it is inside it, with forward slashes."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if os.path.commonpath([absolute, cwd]) == cwd:
        return os.path.relpath(absolute, cwd).replace(os.sep, "/")
    return absolute.replace(os.sep, "/")
