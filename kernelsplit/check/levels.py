"""Severities and ``--fail-on`` levels (no numpy: the command line builds its choices from here)."""

from __future__ import annotations

from .._compat import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


#: ``--fail-on`` / ``fail-on``: a severity, or ``none`` (never fail on findings).
FAIL_ON_LEVELS: tuple[str, ...] = (*(s.value for s in Severity), "none")
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)
#: Rank used by ``--fail-on``: a finding fails the run when its rank >= the level's.
LEVEL_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2, "none": 99}
