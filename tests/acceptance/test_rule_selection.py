"""Rules from the command line over ``[tool.kernelsplit]``: --select / --extend-select / --ignore /
--set, --show-settings with where every value came from, ``kernelsplit rule``, and ``check`` with
no path checking the current folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.paths import FIXTURES, REPO

from kernelsplit.check.rules import RULES, THRESHOLDS
from kernelsplit.cli import cli

RULES_DIR = FIXTURES / "rules"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": None}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def codes(*args: str) -> set[str]:
    out = run("check", *args, "--format", "json")[1]
    return {f["code"] for f in json.loads(out)["findings"]}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    for name in ("nan.keras", "untrained.keras", "lambda.keras", "spectral_norm.keras", "healthy.weights.h5"):
        shutil.copy(RULES_DIR / name, tmp_path / "models" / name)
    return tmp_path


def test_select_ignore_and_extend_select(workdir: Path) -> None:
    everything = {"KS101", "KS105", "KS106", "KS109", "KS110"}
    assert codes("models") == everything
    assert codes("models", "--select", "KS101,untrained") == {"KS101", "KS105"}
    assert codes("models", "--select", "KS101", "--select", "KS106") == {"KS101", "KS106"}
    assert codes("models", "--ignore", "KS109,executable-layers") == everything - {"KS109", "KS110"}
    assert codes("models", "--select", "ALL", "--ignore", "KS101") == everything - {"KS101"}
    (workdir / "pyproject.toml").write_text('[tool.kernelsplit]\nselect = ["KS101"]\nignore = ["KS105"]\n')
    assert codes("models") == {"KS101"}
    assert codes("models", "--extend-select", "KS110") == {"KS101", "KS110"}
    assert codes("models", "--extend-select", "KS105") == {"KS101", "KS105"}, "the command line beats the ignore"
    assert codes("models", "--select", "KS106") == {"KS106"}, "--select replaces the file's select"


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("KS106.spectral-norm=1000", "KS106"),
        ("spectral-norm=1000", "KS106"),
        ("KS106=1000", "KS106"),
        ("spectral-norm.spectral-norm=1000", "KS106"),
        ("abs-max=0.5", "KS103"),
        ("KS103.abs-max=0.5", "KS103"),
    ],
)
def test_set_changes_a_threshold(workdir: Path, setting: str, needle: str) -> None:
    before = needle in codes("models/nan.keras", "models/spectral_norm.keras")
    after = needle in codes("models/nan.keras", "models/spectral_norm.keras", "--set", setting)
    assert (before, after) == ((True, False) if needle == "KS106" else (False, True))


def test_set_beats_the_file_and_sets_severities(workdir: Path) -> None:
    (workdir / "kernelsplit.toml").write_text("[thresholds]\nspectral-norm = 100\n")
    assert "KS106" in codes("models/spectral_norm.keras")
    assert "KS106" not in codes("models/spectral_norm.keras", "--set", "KS106=1000")
    assert run("check", "models/untrained.keras")[0] == 0
    status, out, _ = run("check", "models/untrained.keras", "--set", "KS105.severity=error", "--format", "json")
    assert status == 1 and {f["severity"] for f in json.loads(out)["findings"]} == {"error"}


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--set", "KS999.x=1", "unknown rule 'KS999'"),
        ("--set", "KS106.max=150", "KS106 spectral-norm has no threshold 'max' (thresholds: spectral-norm)"),
        ("--set", "KS101=3", "KS101 non-finite has no threshold (its severity: KS101.severity=)"),
        ("--set", "KS106=big", "spectral-norm must be a number, not 'big'"),
        ("--set", "KS106=nan", "must be a number, not NaN"),
        ("--set", "KS105.severity=fatal", "severity must be one of error, warning, info"),
        ("--set", "spectral-norm", "expected RULE.THRESHOLD=NUMBER (KS103.abs-max, KS106.spectral-norm"),
        ("--select", "KS1O1", "--select: unknown rule 'KS1O1'"),
        ("--ignore", "nope", "--ignore: unknown rule 'nope'"),
        ("--extend-select", "KS000", "--extend-select: unknown rule 'KS000'"),
    ],
)
def test_command_line_mistakes_exit_2_naming_them(workdir: Path, option: str, value: str, needle: str) -> None:
    status, out, err = run("check", "models", option, value)
    assert status == 2 and out == ""
    assert err.startswith("kernelsplit: error: ") and needle in err, err


def test_show_settings_says_where_each_value_came_from(workdir: Path) -> None:
    (workdir / "pyproject.toml").write_text(
        '[tool.kernelsplit]\nfail-on = "warning"\nignore = ["KS109"]\n'
        "[tool.kernelsplit.thresholds]\nabs-max = 40\n"
        '[tool.kernelsplit.per-path-ignores]\n"models/legacy/*" = ["KS105"]\n'
    )
    config = str(workdir / "pyproject.toml")
    status, out, _ = run("check", "--show-settings", "--set", "KS106=800", "--ignore", "KS110", "--fail-on", "error")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == f"configuration file: {config}"
    assert re.search(r"^fail-on +error +\(--fail-on\)$", out, re.M)
    assert re.search(r"^diff.max-drift +none +\(default\)$", out, re.M)
    assert f"per-path-ignores 'models/legacy/*' = KS105 ({config})" in lines
    assert re.search(rf"KS109 +inferred-layer +off +info \(default\) +ignored \({re.escape(config)}\)", out)
    assert re.search(r"KS110 +executable-layers +off +info \(default\) +ignored \(--ignore\)", out)
    assert re.search(r"KS101 +non-finite +on +error \(default\) +every rule is selected by default", out)
    assert f"      abs-max = 40 ({config})" in lines
    assert "      spectral-norm = 800 (--set)" in lines
    assert "      forget-bias = -3 (default)" in lines
    assert all(f"  {rule.code}  " in out for rule in RULES)


def test_check_without_a_path_checks_the_current_folder(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir / "models")
    status, out, _ = run("check", "--format", "json")
    assert status == 1
    assert sorted(a["path"] for a in json.loads(out)["artifacts"]) == sorted(
        p.name for p in (workdir / "models").iterdir()
    )


# --- kernelsplit rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_prints_what_why_threshold_and_how_to_change_it(rule: object) -> None:
    code, name = rule.code, rule.name  # type: ignore[attr-defined]
    status, out, _ = run("rule", code)
    assert status == 0
    assert out.startswith(f"{code} {name}  (default severity: {rule.default_severity})")  # type: ignore[attr-defined]
    assert "\nWhy\n" in out and "\nHow to change it\n" in out
    assert f"--ignore {code}" in out and f"--set {code}.severity=" in out
    for threshold in rule.thresholds:  # type: ignore[attr-defined]
        assert "\nThreshold\n" in out
        assert f"--set {code}.{threshold.key}=N" in out and f"default {threshold.default:g}" in out
    assert run("rule", name)[1] == out and run("rule", code.lower())[1] == out
    assert "../" not in out and "shared/" not in out, "shipped text names no path outside the package"


def test_rule_lists_every_rule_and_explains_unknown_ones() -> None:
    status, out, _ = run("rule")
    assert status == 0 and [line.split()[0] for line in out.splitlines()] == [r.code for r in RULES]
    assert "[spectral-norm = 500]" in out
    assert run("rule", "--all")[1].count("How to change it") == len(RULES)
    status, _, err = run("rule", "spectral")
    assert status == 2 and "unknown rule 'spectral'" in err and "did you mean spectral-norm?" in err


def test_rule_docs_are_written_once_and_complete() -> None:
    from kernelsplit.check.config import toml_loads  # tomllib, or tomli on Python 3.10

    source = REPO / "kernelsplit" / "check" / "rules.toml"
    table = toml_loads(source.read_text(encoding="utf-8"), source)
    assert list(table) == [rule.code for rule in RULES] or set(table) == {rule.code for rule in RULES}
    for rule in RULES:
        entry = table[rule.code]
        assert set(entry) <= {"what", "why", "measured"} and entry["what"] and entry["why"]
        if rule.thresholds:
            assert "measured" in entry, f"{rule.code}: a threshold needs its measurement"
            for threshold in rule.thresholds:
                assert f"{threshold.default:g}" in entry["measured"], rule.code
        assert rule.__doc__ and rule.__doc__.count("\n") == 0, "the docs live in rules.toml, not in docstrings"


def test_readme_rule_table_matches_the_rules() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for rule in RULES:
        row = next((line for line in readme.splitlines() if line.startswith(f"| {rule.code} |")), None)
        assert row is not None, rule.code
        assert f"| {rule.name} | {rule.default_severity} |" in row
        for threshold in rule.thresholds:
            assert f"`{threshold.key}` = {threshold.default:g}" in row
    assert set(THRESHOLDS) == {"abs-max", "spectral-norm", "forget-bias"}
