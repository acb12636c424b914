"""Find model files under the given paths, run every enabled rule, decide the exit code.

Discovery is ``kernelsplit.discover`` (shared with ``inspect``): named files are always tried,
folders are walked by content, and every file a walk passes over is recorded with its reason. A file
that turns out not to be a Keras model is *skipped* (listed in every format), named or not; with
``strict`` a named one is an error. A Git LFS pointer where a model should be is an error
(``lfs-pointer``): the artifact was never pulled, so it was never checked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .._compat import StrEnum
from ..discover import Candidate, Skipped, discover
from ..errors import KernelsplitError, NotAModelError, RuleFailure
from ..exitcodes import ExitCode
from ..model import Artifact, Failure
from .config import Config
from .levels import LEVEL_RANK, Severity
from .rules import RULES, Finding, Rule, RuleContext

__all__ = [
    "Candidate",
    "CheckReport",
    "CheckResult",
    "CheckedArtifact",
    "RuleSetting",
    "Skipped",
    "Verdict",
    "check_artifact",
    "check_file",
    "run_check",
]


@dataclass(frozen=True)
class RuleSetting:
    """One rule as this run applies it: the configuration resolved once, for the rules and every format."""

    rule: Rule
    severity: Severity
    enabled: bool
    #: Threshold name -> the value in effect.
    thresholds: dict[str, float]
    #: ``enabled``, ``severity`` and each threshold name -> where its value came from.
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.rule.code


def rule_settings(config: Config) -> list[RuleSetting]:
    settings = []
    for rule in RULES:
        enabled, why = config.enabled(rule.code)
        sources = {"enabled": why, "severity": config.source(f"severity.{rule.code}")}
        sources.update({t.key: config.source(f"thresholds.{t.key}") for t in rule.thresholds})
        settings.append(
            RuleSetting(
                rule,
                config.severity.get(rule.code, rule.default_severity),
                enabled,
                {t.key: config.thresholds.get(t.key, t.default) for t in rule.thresholds},
                sources,
            )
        )
    return settings


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


@dataclass(frozen=True)
class CheckedLayer:
    name: str
    class_name: str
    cell: str
    units: int
    direction: str | None
    inferred: bool


@dataclass(frozen=True)
class CheckedArtifact:
    """What a check report keeps of an artifact once its rules ran: its facts and layers, no arrays."""

    path: str
    format: str
    keras_version: str | None
    layers: list[CheckedLayer]

    @classmethod
    def of(cls, artifact: Artifact) -> CheckedArtifact:
        layers = [
            CheckedLayer(la.name, la.class_name, str(la.cell), la.units, la.direction, la.inferred)
            for la in artifact.layers
        ]
        return cls(artifact.path, str(artifact.format), artifact.keras_version, layers)


@dataclass
class CheckResult:
    """One file's check, as a worker returns it (``check_file``): picklable, no arrays."""

    path: str
    #: Named with ``--strict``: not being a Keras model is an error, not a skip.
    required: bool = False
    artifact: CheckedArtifact | None = None
    #: The file could not be read (None: it was).
    error: KernelsplitError | None = None
    findings: list[Finding] = field(default_factory=list)
    #: Rules that failed on this file; each is one error of the report.
    failures: list[RuleFailure] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        """A file that turned out not to be a Keras model: listed as skipped, not an error."""
        return not self.required and isinstance(self.error, NotAModelError)


@dataclass
class CheckReport:
    config: Config
    fail_on: str
    settings: list[RuleSetting] = field(default_factory=list)
    artifacts: list[Artifact | CheckedArtifact] = field(default_factory=list)
    #: (path, error) for every file that could not be read, in discovery order.
    errors: list[tuple[str, KernelsplitError]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: Files and folders passed over, and why (walks, and files that are not Keras models).
    skipped: list[Skipped] = field(default_factory=list)
    #: Whether any path was named as a file (then finding no model is not "no input").
    named_files: bool = False
    #: ``--exit-zero``: findings do not fail the run (unreadable files and no input still do).
    exit_zero: bool = False

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
    def statistics(self) -> list[tuple[str, str, Severity, int]]:
        """(code, name, severity, count) per rule with findings, most frequent first (``--statistics``)."""
        counts: dict[str, tuple[str, Severity, int]] = {}
        for f in self.findings:
            _, _, n = counts.get(f.code, (f.rule, f.severity, 0))
            counts[f.code] = (f.rule, f.severity, n + 1)
        return sorted(
            ((code, name, severity, n) for code, (name, severity, n) in counts.items()), key=lambda s: (-s[3], s[0])
        )

    @property
    def verdict(self) -> Verdict:
        """Unreadable file > nothing found > findings at/above ``fail_on`` > passed.

        "Nothing found" means no artifact and no file named explicitly: folders and globs that hold
        no model (a wrong path in CI). A named file that is not a model is skipped, not "no input",
        so a pre-commit hook handed a plain HDF5 data file passes.
        """
        if self.errors:
            return Verdict.UNREADABLE
        if not self.artifacts and not self.named_files:
            return Verdict.NO_INPUT
        return Verdict.FAILED if self.failing else Verdict.PASSED

    @property
    def exit_code(self) -> ExitCode:
        if self.exit_zero and self.verdict == Verdict.FAILED:
            return ExitCode.OK
        return self.verdict.exit_code

    def add(self, result: CheckResult) -> None:
        """Fold one file's result in (in input order, so every format lists files as given)."""
        if result.skipped:
            assert result.error is not None
            self.skipped.append(Skipped(result.path, result.error.message, "not-a-model"))
            return
        if result.error is not None:
            self.errors.append((result.path, result.error))
            return
        if result.artifact is not None:
            self.artifacts.append(result.artifact)
        self.findings += result.findings
        self.errors += [(result.path, failure) for failure in result.failures]


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
        key = rule.thresholds[0].key if len(rule.thresholds) == 1 else None
        try:
            with np.errstate(all="ignore"):  # rules meet NaN, Inf and float64 extremes by design
                hits = list(rule.check(artifact, ctx))
        except Exception as exc:  # one rule must not end the CI gate
            if os.environ.get("KERNELSPLIT_DEBUG"):
                raise
            failures.append(RuleFailure(f"rule {rule.code} {rule.name} failed on this file ({_why(exc)})"))
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
                rule.threshold_help(key, hit.threshold) if key and hit.threshold is not None else None,
            )
            for hit in hits
        ]
    return findings, failures


def _why(exc: Exception) -> str:
    """What made a rule fail, in words: never Python's exception text, which a file can steer."""
    if isinstance(exc, np.linalg.LinAlgError):
        return "a linear-algebra routine did not converge on its values"
    if isinstance(exc, (FloatingPointError, OverflowError)):
        return "its values are out of floating-point range for this rule"
    if isinstance(exc, MemoryError):
        return "not enough memory for this rule"
    return "an unexpected error in the rule; KERNELSPLIT_DEBUG=1 shows it"


def check_file(path: str, config: Config, explicit: bool = True, strict: bool = False) -> CheckResult:
    """Open one file and run the rules: the step ``check`` runs per file (in a worker, see
    ``kernelsplit.batch``). The rule settings are resolved from ``config`` here. A file that is not
    a Keras model is to be skipped unless it was named and ``strict`` (``CheckResult.skipped``)."""
    from ..api import try_open

    artifact = try_open(path)
    if isinstance(artifact, Failure):
        return CheckResult(path, explicit and strict, error=artifact.error)
    findings, failures = check_artifact(artifact, config)
    return CheckResult(path, explicit and strict, CheckedArtifact.of(artifact), findings=findings, failures=failures)


def new_report(config: Config, fail_on: str | None = None, *, exit_zero: bool = False) -> CheckReport:
    return CheckReport(
        config=config,
        fail_on=fail_on or config.fail_on or "error",
        settings=rule_settings(config),
        exit_zero=exit_zero,
    )


def run_check(
    paths: tuple[str, ...] | list[str],
    config: Config,
    fail_on: str | None = None,
    *,
    strict: bool = False,
    exit_zero: bool = False,
) -> CheckReport:
    """Check every artifact ``paths`` name, in this process (no isolation: the command line runs
    :func:`check_file` in workers instead). ``strict``: a named file that is not a model is an
    error; ``exit_zero``: findings never make the exit code non-zero."""
    report = new_report(config, fail_on, exit_zero=exit_zero)
    found = discover(paths)
    report.skipped = list(found.skipped)
    report.named_files = any(c.explicit and not c.nothing for c in found.candidates)
    for candidate in found.candidates:
        if candidate.nothing:
            continue  # an empty folder or a glob matching nothing: no input (exit 3 if nothing else)
        report.add(check_file(candidate.path, config, candidate.explicit, strict))
    return report
