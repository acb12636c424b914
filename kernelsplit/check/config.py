"""Configuration for ``check`` and ``diff``: ``[tool.kernelsplit]`` or ``kernelsplit.toml``.

Discovery walks from the current folder upward; in each folder a ``kernelsplit.toml`` wins over a
``pyproject.toml``, and a ``pyproject.toml`` counts only when it has a ``[tool.kernelsplit]`` table.
``kernelsplit.toml`` holds the same keys at its top level (a ``[tool.kernelsplit]`` table in it is
accepted too). Unknown keys, wrong types and malformed TOML raise :class:`ConfigError` (exit 2):
a typo in a CI gate must never silently turn a rule off.

The command line overrides the file (:func:`apply_overrides`: ``--select``, ``--extend-select``,
``--ignore``, ``--set``, ``--fail-on``), and every value remembers where it came from
(``Config.sources``) for ``check --show-settings``.

Rule selection, as in ruff: the enabled rules are ``select`` (default: all) plus ``extend-select``,
minus ``ignore``. ``--select`` replaces the file's ``select`` and ``extend-select``; a rule
selected on the command line is no longer ignored by the file; ``--ignore`` always wins.

.. code-block:: toml

    [tool.kernelsplit]
    fail-on = "error"                 # error | warning | info | none
    select = ["KS101", "KS103"]       # default: every rule
    extend-select = []
    ignore = ["KS109", "executable-layers"]

    [tool.kernelsplit.severity]       # per-rule severity: error | warning | info
    KS103 = "error"

    [tool.kernelsplit.thresholds]
    abs-max = 50.0
    spectral-norm = 100.0
    forget-bias = -3.0

    [tool.kernelsplit.per-path-ignores]   # globs relative to the config file's folder
    "models/legacy/*.h5" = ["KS105"]

    [tool.kernelsplit.diff]
    max-drift = 0.05
"""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import ConfigError, UsageError
from .levels import FAIL_ON_LEVELS, SEVERITIES, Severity

#: ``Config.sources`` values: a config file's path, the command-line option, or this.
DEFAULT = "default"


@dataclass
class Config:
    path: Path | None = None
    fail_on: str | None = None
    #: The rules to run (None: every rule).
    select: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    per_path_ignores: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    max_drift: float | None = None
    #: Where each value set here came from: ``fail-on``, ``select``, ``extend-select.KS103``,
    #: ``ignore.KS109``, ``severity.KS105``, ``thresholds.abs-max``, ``per-path-ignores``,
    #: ``diff.max-drift`` -> the config file's path or the command-line option (``--set``). Absent:
    #: the default.
    sources: dict[str, str] = field(default_factory=dict)

    def source(self, key: str) -> str:
        return self.sources.get(key, DEFAULT)

    def enabled(self, code: str) -> tuple[bool, str]:
        """Whether rule ``code`` runs, and why (for ``--show-settings``)."""
        if code in self.ignore:
            return False, f"ignored ({self.source('ignore.' + code)})"
        if code in self.extend_select:
            return True, f"extend-select ({self.source('extend-select.' + code)})"
        if self.select is None:
            return True, "every rule is selected by default"
        if code in self.select:
            return True, f"selected ({self.source('select')})"
        return False, f"not selected ({self.source('select')})"

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def ignored_for(self, path: str) -> frozenset[str]:
        """Codes ignored for ``path`` by ``per-path-ignores`` (matched relative to the config)."""
        if not self.per_path_ignores:
            return frozenset()
        absolute = Path(os.path.abspath(path))
        try:
            relative = PurePosixPath(absolute.relative_to(self.base_dir.resolve()).as_posix())
        except ValueError:
            relative = PurePosixPath(absolute.as_posix())
        targets = [relative.as_posix(), PurePosixPath(path).as_posix()]
        codes: set[str] = set()
        for pattern, ignored in self.per_path_ignores:
            glob = pattern.rstrip("/")
            names = [*targets, relative.name] if "/" not in glob else targets
            # fnmatch's * also matches "/", so "dir" or "dir/*" covers everything below dir.
            if any(fnmatch.fnmatchcase(t, glob) or fnmatch.fnmatchcase(t, glob + "/*") for t in names):
                codes |= ignored
        return frozenset(codes)


def toml_loads(text: str, path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # declared for python_version < '3.11' in pyproject.toml
        except ModuleNotFoundError:
            raise ConfigError(
                f"{path}: reading TOML configuration needs Python >= 3.11 or the 'tomli' package"
            ) from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    return data


def _read_table(path: Path) -> dict[str, Any] | None:
    """The kernelsplit table of ``path``, or None when a pyproject.toml has none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    data = toml_loads(text, path)
    tool = data.get("tool", {})
    table = tool.get("kernelsplit") if isinstance(tool, dict) else None
    if path.name == "pyproject.toml":
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.kernelsplit] must be a table")
        return table
    if table is not None:
        if set(data) != {"tool"} or set(tool) != {"kernelsplit"}:
            raise ConfigError(f"{path}: use either top-level keys or one [tool.kernelsplit] table")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.kernelsplit] must be a table")
        return table
    return data


def _discover(start: Path | None) -> tuple[Path, dict[str, Any]] | None:
    """The nearest config file from ``start`` up and its table, each file read once."""
    folder = (start or Path.cwd()).resolve()
    for directory in (folder, *folder.parents):
        for candidate in (directory / "kernelsplit.toml", directory / "pyproject.toml"):
            if candidate.is_file():
                table = _read_table(candidate)
                if table is not None:
                    return candidate, table
    return None


def _unknown_rule(key: object) -> str:
    from .rules import RULES

    return f"unknown rule {key!r} (rules: {RULES[0].code}..{RULES[-1].code} or their names, see `kernelsplit rule`)"


def _rule_code(key: str, path: Path, where: str) -> str:
    from .rules import resolve_rule

    rule = resolve_rule(key) if isinstance(key, str) else None
    if rule is None:
        raise ConfigError(f"{path}: {where}: {_unknown_rule(key)}")
    return rule.code


def _code_list(value: Any, path: Path, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {where} must be a list of rule codes or names")
    return frozenset(code for v in value for code in _expand(v, lambda key: _rule_code(key, path, where)))


def _expand(key: str, resolve: Any) -> list[str]:
    """``ALL`` -> every code; a code or name -> its code."""
    from .rules import RULES

    if key.upper() == "ALL":
        return [rule.code for rule in RULES]
    return [resolve(key)]


def _number(value: Any, path: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{path}: {where} must be a number, not {value!r}")
    if value != value:  # TOML's nan compares false with everything: it would silently disable the check
        raise ConfigError(f"{path}: {where} must be a number, not NaN")
    return float(value)


def parse_config(table: dict[str, Any], path: Path) -> Config:
    from .rules import THRESHOLDS

    config = Config(path=path)
    origin = str(path)
    known = {"fail-on", "select", "extend-select", "ignore", "severity", "thresholds", "per-path-ignores", "diff"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(known))})"
        )
    if "fail-on" in table:
        if table["fail-on"] not in FAIL_ON_LEVELS:
            raise ConfigError(f"{path}: fail-on must be one of {', '.join(FAIL_ON_LEVELS)}, not {table['fail-on']!r}")
        config.fail_on = table["fail-on"]
        config.sources["fail-on"] = origin
    if "select" in table:
        config.select = _code_list(table["select"], path, "select")
        config.sources["select"] = origin
    for key, attribute in (("extend-select", "extend_select"), ("ignore", "ignore")):
        if key in table:
            codes = _code_list(table[key], path, key)
            setattr(config, attribute, codes)
            config.sources.update({f"{key}.{code}": origin for code in codes})
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{path}: severity must be a table of rule = level")
    for key, level in severity.items():
        if level not in SEVERITIES:
            raise ConfigError(f"{path}: severity.{key} must be one of {', '.join(SEVERITIES)}, not {level!r}")
        code = _rule_code(key, path, f"severity.{key}")
        config.severity[code] = Severity(level)
        config.sources[f"severity.{code}"] = origin
    thresholds = table.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise ConfigError(f"{path}: thresholds must be a table of name = number")
    for key, value in thresholds.items():
        if key not in THRESHOLDS:
            raise ConfigError(f"{path}: unknown threshold {key!r} (known: {', '.join(sorted(THRESHOLDS))})")
        config.thresholds[key] = _number(value, path, f"thresholds.{key}")
        config.sources[f"thresholds.{key}"] = origin
    ignores = table.get("per-path-ignores", {})
    if not isinstance(ignores, dict):
        raise ConfigError(f'{path}: per-path-ignores must be a table of "glob" = [rules]')
    for pattern, codes in ignores.items():
        config.per_path_ignores.append((pattern, _code_list(codes, path, f"per-path-ignores.{pattern!r}")))
        config.sources["per-path-ignores"] = origin
    diff = table.get("diff", {})
    if not isinstance(diff, dict):
        raise ConfigError(f"{path}: diff must be a table")
    unknown = sorted(set(diff) - {"max-drift"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in diff: {', '.join(map(repr, unknown))} (allowed: max-drift)")
    if "max-drift" in diff:
        config.max_drift = _number(diff["max-drift"], path, "diff.max-drift")
        if config.max_drift < 0:
            raise ConfigError(f"{path}: diff.max-drift must be >= 0")
        config.sources["diff.max-drift"] = origin
    return config


def load_config(path: str | os.PathLike[str] | None = None, start: Path | None = None) -> Config:
    """``--config FILE`` when given (it must exist and be valid), else discovery, else defaults."""
    if path is not None:
        target = Path(path)
        if not target.is_file():
            raise ConfigError(f"{target}: config file not found")
        table = _read_table(target)
        if table is None:
            raise ConfigError(f"{target}: no [tool.kernelsplit] table")
        return parse_config(table, target)
    found = _discover(start)
    return parse_config(found[1], found[0]) if found else Config()


# ------------------------------------------------------------------------------------------------
# the command line over the file
# ------------------------------------------------------------------------------------------------


def _cli_codes(values: tuple[str, ...] | list[str], option: str) -> frozenset[str]:
    """Codes from repeatable, comma-separated ``--select``-style values (codes, names or ALL)."""
    from .rules import resolve_rule

    def resolve(key: str) -> str:
        rule = resolve_rule(key)
        if rule is None:
            raise UsageError(f"{option}: {_unknown_rule(key)}")
        return rule.code

    keys = [key.strip() for value in values for key in value.split(",") if key.strip()]
    return frozenset(code for key in keys for code in _expand(key, resolve))


def parse_setting(text: str) -> tuple[str, str, str | float]:
    """One ``--set`` value -> (kind, key, value): ``("threshold", "spectral-norm", 150.0)`` or
    ``("severity", "KS105", "error")``.

    Accepted: ``RULE.THRESHOLD=N``, ``THRESHOLD=N``, ``RULE=N`` (a rule with one threshold) and
    ``RULE.severity=LEVEL``; RULE is a code or a name.
    """
    from .rules import THRESHOLDS, resolve_rule

    known = ", ".join(f"{rule.code}.{key}" for key, (rule, _) in THRESHOLDS.items())
    usage = f"--set {text!r}: expected RULE.THRESHOLD=NUMBER ({known}) or RULE.severity=LEVEL"
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise UsageError(usage)
    rule_key, dot, setting = key.partition(".")
    rule = resolve_rule(rule_key)
    if not dot:
        if key in THRESHOLDS:
            rule, setting = THRESHOLDS[key][0], key
        elif rule is not None and len(rule.thresholds) == 1:
            setting = rule.thresholds[0].key
        elif rule is not None:
            raise UsageError(f"{usage}; {rule.code} {rule.name} has no threshold (its severity: {rule.code}.severity=)")
        else:
            raise UsageError(usage)
    elif rule is None:
        raise UsageError(f"--set {text!r}: {_unknown_rule(rule_key)}")
    if setting == "severity":
        if raw not in SEVERITIES:
            raise UsageError(f"--set {text!r}: severity must be one of {', '.join(SEVERITIES)}")
        return "severity", rule.code, raw
    if setting not in {t.key for t in rule.thresholds}:
        has = ", ".join(t.key for t in rule.thresholds) or "none"
        raise UsageError(f"--set {text!r}: {rule.code} {rule.name} has no threshold {setting!r} (thresholds: {has})")
    try:
        number = float(raw)
    except ValueError:
        raise UsageError(f"--set {text!r}: {setting} must be a number, not {raw!r}") from None
    if number != number:  # NaN compares false with everything: it would silently disable the rule
        raise UsageError(f"--set {text!r}: {setting} must be a number, not NaN")
    return "threshold", setting, number


def apply_overrides(
    config: Config,
    *,
    select: tuple[str, ...] | list[str] = (),
    extend_select: tuple[str, ...] | list[str] = (),
    ignore: tuple[str, ...] | list[str] = (),
    settings: tuple[str, ...] | list[str] = (),
    fail_on: str | None = None,
) -> Config:
    """``config`` with the command line's choices on top (a new Config; usage mistakes exit 2)."""
    import dataclasses

    out = dataclasses.replace(
        config,
        severity=dict(config.severity),
        thresholds=dict(config.thresholds),
        sources=dict(config.sources),
    )
    chosen: frozenset[str] = frozenset()
    if select:  # replaces the file's select and extend-select
        out.select = _cli_codes(select, "--select")
        out.extend_select = frozenset()
        out.sources = {k: v for k, v in out.sources.items() if not k.startswith("extend-select.")}
        out.sources["select"] = "--select"
        chosen |= out.select
    if extend_select:
        added = _cli_codes(extend_select, "--extend-select")
        out.extend_select = out.extend_select | added
        out.sources.update({f"extend-select.{code}": "--extend-select" for code in added})
        chosen |= added
    if chosen:  # the command line's selection beats the file's ignore list
        out.ignore = out.ignore - chosen
    if ignore:
        dropped = _cli_codes(ignore, "--ignore")
        out.ignore = out.ignore | dropped
        out.sources.update({f"ignore.{code}": "--ignore" for code in dropped})
    for text in settings:
        kind, key, value = parse_setting(text)
        if kind == "severity":
            out.severity[key] = Severity(str(value))
            out.sources[f"severity.{key}"] = "--set"
        else:
            out.thresholds[key] = float(value)
            out.sources[f"thresholds.{key}"] = "--set"
    if fail_on is not None:
        out.fail_on = fail_on
        out.sources["fail-on"] = "--fail-on"
    return out
