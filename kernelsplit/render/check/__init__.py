"""``check`` reporters: one per format behind one base class; the command picks one by name.

A reporter turns a :class:`~kernelsplit.check.engine.CheckReport` (findings, the rule settings in
effect and the verdict, all computed once by the engine) into text on a stream. Unreadable files
are also reported on stderr by the command, whatever the format.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from .. import load

if TYPE_CHECKING:
    from ...check.engine import CheckReport

#: format name -> "module:Class" (imported only when used).
REPORTERS = {
    "text": "text:CheckTextReporter",
    "json": "json:CheckJsonReporter",
    "markdown": "markdown:CheckMarkdownReporter",
    "sarif": "sarif:CheckSarifReporter",
    "github": "github:CheckGithubReporter",
}


class CheckReporter:
    name: str

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        raise NotImplementedError


def reporter(name: str) -> CheckReporter:
    cls: type[CheckReporter] = load(REPORTERS, __name__, name)
    return cls()
