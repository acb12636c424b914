"""``kernelsplit check``: rules over artifacts (rules.py), file discovery and the run (engine.py)."""

from .engine import CheckReport, run_check
from .rules import RULES, Finding, Rule

__all__ = ["RULES", "CheckReport", "Finding", "Rule", "run_check"]
