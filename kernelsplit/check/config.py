"""Configuration for ``check`` and ``diff``: ``[tool.kernelsplit]`` or ``kernelsplit.toml``.

Discovery walks from the current folder upward; in each folder a ``kernelsplit.toml`` wins over a
``pyproject.toml``, and a ``pyproject.toml`` counts only when it has a ``[tool.kernelsplit]`` table.
``kernelsplit.toml`` holds the same keys at its top level (a ``[tool.kernelsplit]`` table in it is
accepted too). Unknown keys, wrong types and malformed TOML raise :class:`ConfigError` (exit 2):
a typo in a CI gate must never silently turn a rule off.

.. code-block:: toml

    [tool.kernelsplit]
    fail-on = "error"                 # error | warning | info | none
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

from ..errors import ConfigError
from .levels import FAIL_ON_LEVELS, SEVERITIES, Severity


@dataclass
class Config:
    path: Path | None = None
    fail_on: str | None = None
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    per_path_ignores: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    max_drift: float | None = None

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


def _toml_loads(text: str, path: Path) -> dict[str, Any]:
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
    data = _toml_loads(text, path)
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


def _rule_code(key: str, path: Path, where: str) -> str:
    from .rules import resolve_rule

    rule = resolve_rule(key) if isinstance(key, str) else None
    if rule is None:
        raise ConfigError(
            f"{path}: {where}: unknown rule {key!r} (rules: KS101..KS111, see `kernelsplit check --help`)"
        )
    return rule.code


def _code_list(value: Any, path: Path, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {where} must be a list of rule codes or names")
    return frozenset(_rule_code(v, path, where) for v in value)


def _number(value: Any, path: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{path}: {where} must be a number, not {value!r}")
    return float(value)


def parse_config(table: dict[str, Any], path: Path) -> Config:
    from .rules import THRESHOLDS

    config = Config(path=path)
    known = {"fail-on", "ignore", "severity", "thresholds", "per-path-ignores", "diff"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(known))})"
        )
    if "fail-on" in table:
        if table["fail-on"] not in FAIL_ON_LEVELS:
            raise ConfigError(f"{path}: fail-on must be one of {', '.join(FAIL_ON_LEVELS)}, not {table['fail-on']!r}")
        config.fail_on = table["fail-on"]
    if "ignore" in table:
        config.ignore = _code_list(table["ignore"], path, "ignore")
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{path}: severity must be a table of rule = level")
    for key, level in severity.items():
        if level not in SEVERITIES:
            raise ConfigError(f"{path}: severity.{key} must be one of {', '.join(SEVERITIES)}, not {level!r}")
        config.severity[_rule_code(key, path, f"severity.{key}")] = Severity(level)
    thresholds = table.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise ConfigError(f"{path}: thresholds must be a table of name = number")
    for key, value in thresholds.items():
        if key not in THRESHOLDS:
            raise ConfigError(f"{path}: unknown threshold {key!r} (known: {', '.join(sorted(THRESHOLDS))})")
        config.thresholds[key] = _number(value, path, f"thresholds.{key}")
    ignores = table.get("per-path-ignores", {})
    if not isinstance(ignores, dict):
        raise ConfigError(f'{path}: per-path-ignores must be a table of "glob" = [rules]')
    for pattern, codes in ignores.items():
        config.per_path_ignores.append((pattern, _code_list(codes, path, f"per-path-ignores.{pattern!r}")))
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
