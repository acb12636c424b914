"""``check`` reporters: one per format behind one base class; the command picks one by name.

A reporter turns a :class:`~kernelsplit.check.engine.CheckReport` (findings, skipped files, the rule
settings in effect and the verdict, all computed once by the engine) into text on a stream.
Unreadable files are also reported on stderr by the command, whatever the format.

Options every reporter takes (the human formats honour them; machine formats always carry the
whole report): ``quiet`` (findings only: no summary, skipped list or hints) and ``statistics``
(a count per rule instead of the findings).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, ClassVar

from .. import load

if TYPE_CHECKING:
    from ...check.engine import CheckReport, CheckResult

#: format name -> "module:Class" (imported only when used).
REPORTERS = {
    "text": "text:CheckTextReporter",
    "concise": "concise:CheckConciseReporter",
    "json": "json:CheckJsonReporter",
    "markdown": "markdown:CheckMarkdownReporter",
    "sarif": "sarif:CheckSarifReporter",
    "github": "github:CheckGithubReporter",
    "junit": "junit:CheckJunitReporter",
    "gitlab": "gitlab:CheckGitlabReporter",
}

#: Formats for people: they honour --quiet and --statistics.
HUMAN_FORMATS = ("text", "concise", "markdown")


class CheckReporter:
    name: str

    def __init__(self, *, quiet: bool = False, statistics: bool = False) -> None:
        self.quiet = quiet
        self.statistics = statistics

    #: Line formats can print each file's findings as it is checked (:meth:`write_file`) and end
    #: with :meth:`write_end`, so a CI log is never silent for minutes; documents write once.
    streams: ClassVar[bool] = False

    def write(self, report: CheckReport, stream: IO[str]) -> None:
        """The whole report at once."""
        raise NotImplementedError

    @property
    def streaming(self) -> bool:
        """Whether this run prints per file (``--statistics`` needs every file first)."""
        return self.streams and not self.statistics

    def write_file(self, report: CheckReport, result: CheckResult, stream: IO[str]) -> None:
        """One file's result as soon as it is checked (``report``: the run so far)."""

    def write_end(self, report: CheckReport, stream: IO[str]) -> None:
        """What follows the streamed files; for a format that does not stream, the whole report."""
        self.write(report, stream)


def reporter(name: str, *, quiet: bool = False, statistics: bool = False) -> CheckReporter:
    cls: type[CheckReporter] = load(REPORTERS, __name__, name)
    return cls(quiet=quiet, statistics=statistics)


def location(path: str, layer: str | None, block: str) -> str:
    """``path:layer:part[gate]`` (as much of it as applies): the concise formats' location."""
    return ":".join([path, *(x for x in (layer, block) if x)])
