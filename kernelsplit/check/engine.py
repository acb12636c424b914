"""Find model files under the given paths, run every enabled rule, decide the exit code.

Discovery: a named file is always checked (a named non-model is an error); a directory is one
artifact when it is a SavedModel (``saved_model.pb``), an unzipped ``.keras`` (``config.json`` +
``metadata.json``) or a TF checkpoint folder, else it is walked (hidden folders and
``__pycache__`` skipped) and every file whose first bytes say HDF5 or zip is tried — files that turn
out not to be Keras models are skipped silently, damaged ones are reported. Globs (``models/**/*.h5``,
quoted so the shell leaves them alone) are expanded like a walk.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from .._compat import StrEnum
from ..errors import KernelsplitError, NotAModelError, NotFoundError, RuleFailure
from ..exitcodes import ExitCode
from ..model import Artifact, Failure
from ..readers import is_artifact_dir, looks_like_model_file
from .config import Config
from .levels import LEVEL_RANK, Severity
from .rules import RULES, Finding, Rule, RuleContext

_GLOB_CHARS = set("*?[")
_SKIP_DIRS = {"__pycache__", "node_modules"}


@dataclass(frozen=True)
class Candidate:
    path: str
    explicit: bool


@dataclass(frozen=True)
class RuleSetting:
    """One rule as this run applies it: the configuration resolved once, for the rules and every format."""

    rule: Rule
    severity: Severity
    enabled: bool
    #: Threshold name -> the value in effect.
    thresholds: dict[str, float]

    @property
    def code(self) -> str:
        return self.rule.code


def rule_settings(config: Config) -> list[RuleSetting]:
    return [
        RuleSetting(
            rule,
            config.severity.get(rule.code, rule.default_severity),
            rule.code not in config.ignore,
            {t.key: config.thresholds.get(t.key, t.default) for t in rule.thresholds},
        )
        for rule in RULES
    ]


class Verdict(StrEnum):
    """The outcome of a run, each with its exit code (precedence: unreadable > no-input > failed)."""

    PASSED = "passed"
    FAILED = "failed"
    UNREADABLE = "unreadable"
    NO_INPUT = "no-input"

    @property
    def exit_code(self) -> ExitCode:
        return _VERDICT_EXIT[self]


_VERDICT_EXIT = {
    Verdict.PASSED: ExitCode.OK,
    Verdict.FAILED: ExitCode.FINDINGS,
    Verdict.UNREADABLE: ExitCode.ERROR,
    Verdict.NO_INPUT: ExitCode.NO_INPUT,
}


@dataclass
class CheckReport:
    config: Config
    fail_on: str
    settings: list[RuleSetting] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    #: (path, error) for every file that could not be read, in discovery order.
    errors: list[tuple[str, KernelsplitError]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    @property
    def failing(self) -> list[Finding]:
        rank = LEVEL_RANK[self.fail_on]
        return [f for f in self.findings if LEVEL_RANK[f.severity] >= rank]

    @property
    def verdict(self) -> Verdict:
        """Unreadable file > nothing found > findings at/above ``fail_on`` > passed."""
        if self.errors:
            return Verdict.UNREADABLE
        if not self.artifacts:
            return Verdict.NO_INPUT
        return Verdict.FAILED if self.failing else Verdict.PASSED

    @property
    def exit_code(self) -> ExitCode:
        return self.verdict.exit_code


def _walk(root: Path) -> list[Candidate]:
    if is_artifact_dir(root):
        return [Candidate(str(root), explicit=False)]
    found: list[Candidate] = []
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        keep = []
        for name in sorted(dirs):
            if name.startswith(".") or name in _SKIP_DIRS:
                continue
            if is_artifact_dir(here / name):
                found.append(Candidate(str(here / name), explicit=False))
            else:
                keep.append(name)
        dirs[:] = keep
        found += [Candidate(str(here / n), explicit=False) for n in sorted(files) if looks_like_model_file(here / n)]
    return found


def discover(paths: tuple[str, ...] | list[str]) -> tuple[list[Candidate], list[tuple[str, KernelsplitError]]]:
    candidates: list[Candidate] = []
    errors: list[tuple[str, KernelsplitError]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            candidates.append(Candidate(raw, explicit=True))
        elif path.is_dir():
            candidates += [Candidate(raw, True)] if is_artifact_dir(path) else _walk(path)
        elif _GLOB_CHARS & set(raw):
            for match in sorted(glob.glob(raw, recursive=True)):
                hit = Path(match)
                if hit.is_dir():
                    candidates += _walk(hit)
                elif looks_like_model_file(hit):
                    candidates.append(Candidate(match, explicit=False))
        else:
            errors.append((raw, NotFoundError("no such file or directory")))
    seen: set[str] = set()
    unique = []
    for candidate in candidates:
        key = os.path.realpath(candidate.path)
        if key not in seen:
            seen.add(key)
            unique.append(candidate)
    return unique, errors


def check_artifact(
    artifact: Artifact, config: Config, settings: list[RuleSetting] | None = None
) -> tuple[list[Finding], list[RuleFailure]]:
    settings = settings if settings is not None else rule_settings(config)
    skip = config.ignored_for(artifact.path)
    ctx = RuleContext(thresholds={key: value for s in settings for key, value in s.thresholds.items()})
    findings: list[Finding] = []
    failures: list[RuleFailure] = []
    for setting in settings:
        rule = setting.rule
        if not setting.enabled or rule.code in skip:
            continue
        try:
            hits = list(rule.check(artifact, ctx))
        except Exception as exc:  # one rule must not end the CI gate
            text = (str(exc).strip().splitlines() or [""])[0][:200]
            failures.append(
                RuleFailure(f"rule {rule.code} {rule.name} failed on this file ({type(exc).__name__}: {text})")
            )
            continue
        findings += [
            Finding(
                rule.code,
                rule.name,
                setting.severity,
                artifact.path,
                hit.detail,
                hit.layer,
                hit.part,
                hit.gate,
                hit.value,
                hit.threshold,
                hit.units,
            )
            for hit in hits
        ]
    return findings, failures


def run_check(paths: tuple[str, ...] | list[str], config: Config, fail_on: str | None = None) -> CheckReport:
    from ..api import try_open

    report = CheckReport(config=config, fail_on=fail_on or config.fail_on or "error", settings=rule_settings(config))
    candidates, report.errors = discover(paths)
    for candidate in candidates:
        artifact = try_open(candidate.path)
        if isinstance(artifact, Failure):
            if not candidate.explicit and isinstance(artifact.error, NotAModelError):
                continue
            report.errors.append((candidate.path, artifact.error))
            continue
        findings, failures = check_artifact(artifact, config, report.settings)
        report.errors += [(candidate.path, failure) for failure in failures]
        report.artifacts.append(artifact)
        report.findings += findings
    return report
