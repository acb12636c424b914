"""``[tool.kernelsplit]`` / ``kernelsplit.toml``: parsing tables built in memory, and the upward walk."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernelsplit.check.config import Config, load_config, parse_config
from kernelsplit.check.levels import Severity
from kernelsplit.errors import ConfigError

HERE = Path("kernelsplit.toml")


def test_a_full_table_parses_to_codes_levels_and_numbers() -> None:
    config = parse_config(
        {
            "fail-on": "warning",
            "ignore": ["KS109", "executable-layers"],
            "severity": {"untrained": "error"},
            "thresholds": {"abs-max": 20, "spectral-norm": 150.5},
            "per-path-ignores": {"models/reservoir/*": ["KS105"]},
            "diff": {"max-drift": 0.05},
        },
        HERE,
    )
    assert config.fail_on == "warning"
    assert config.ignore == {"KS109", "KS110"}  # names resolve to codes
    assert config.severity == {"KS105": Severity.ERROR}
    assert config.thresholds == {"abs-max": 20.0, "spectral-norm": 150.5}
    assert config.max_drift == 0.05


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"fail_on": "error"}, "unknown key"),
        ({"fail-on": "fatal"}, "fail-on must be one of"),
        ({"ignore": "KS101"}, "must be a list"),
        ({"ignore": ["KS999"]}, "unknown rule"),
        ({"severity": {"KS101": "loud"}}, "severity.KS101"),
        ({"thresholds": {"abs-max": "50"}}, "must be a number"),
        ({"thresholds": {"abs-max": True}}, "must be a number"),
        ({"thresholds": {"absmax": 50}}, "unknown threshold"),
        ({"diff": {"max-drift": -1}}, ">= 0"),
        ({"diff": {"max-drift": float("nan")}}, "not NaN"),
        ({"thresholds": {"abs-max": float("nan")}}, "not NaN"),
        ({"diff": {"drift": 1}}, "unknown key(s) in diff"),
    ],
)
def test_every_mistake_is_a_config_error_naming_it(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(table, HERE)


def test_per_path_ignores_match_relative_to_the_config_folder(tmp_path: Path) -> None:
    config = parse_config(
        {"per-path-ignores": {"models/reservoir/*": ["KS105"], "*.weights.h5": ["KS109"]}},
        tmp_path / "kernelsplit.toml",
    )
    assert config.ignored_for(str(tmp_path / "models" / "reservoir" / "a.h5")) == {"KS105"}
    assert config.ignored_for(str(tmp_path / "deep" / "m.weights.h5")) == {"KS109"}
    assert config.ignored_for(str(tmp_path / "models" / "a.h5")) == set()


def test_discovery_walks_upward_and_kernelsplit_toml_wins_in_a_folder(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "kernelsplit.toml").write_text('fail-on = "info"\n')
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no table: passed over
    assert load_config(start=deep).fail_on == "info"
    (tmp_path / "a" / "pyproject.toml").write_text('[tool.kernelsplit]\nfail-on = "warning"\n')
    assert load_config(start=deep).fail_on == "warning"
    (tmp_path / "a" / "kernelsplit.toml").write_text('fail-on = "none"\n')
    found = load_config(start=deep)
    assert (found.fail_on, found.path) == ("none", tmp_path / "a" / "kernelsplit.toml")


def test_no_config_anywhere_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(start=tmp_path) == Config()


def test_a_named_config_must_exist_and_hold_the_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ConfigError, match=r"no \[tool.kernelsplit\] table"):
        load_config(tmp_path / "pyproject.toml")
    (tmp_path / "bad.toml").write_text("fail-on = \n")
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_config(tmp_path / "bad.toml")
    (tmp_path / "mixed.toml").write_text('fail-on = "info"\n[tool.kernelsplit]\nfail-on = "error"\n')
    with pytest.raises(ConfigError, match="either top-level keys"):
        load_config(tmp_path / "mixed.toml")


# --- the command line over the file ---------------------------------------------------------------


def test_select_and_extend_select_parse_with_their_sources() -> None:
    config = parse_config({"select": ["KS101", "abs-max"], "extend-select": ["ALL"], "ignore": ["KS109"]}, HERE)
    assert config.select == {"KS101", "KS103"}
    assert len(config.extend_select) == 11
    assert config.enabled("KS109") == (False, "ignored (kernelsplit.toml)")
    assert config.enabled("KS101") == (True, "extend-select (kernelsplit.toml)")
    assert config.source("fail-on") == "default"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("KS106.spectral-norm=150", ("threshold", "spectral-norm", 150.0)),
        ("spectral-norm.spectral-norm = 150", ("threshold", "spectral-norm", 150.0)),
        ("spectral-norm=1e3", ("threshold", "spectral-norm", 1000.0)),
        ("KS106=150", ("threshold", "spectral-norm", 150.0)),
        ("forget-bias=-5", ("threshold", "forget-bias", -5.0)),
        ("ks105.severity=error", ("severity", "KS105", "error")),
        ("untrained.severity=info", ("severity", "KS105", "info")),
    ],
)
def test_parse_setting(text: str, parsed: tuple[str, str, object]) -> None:
    from kernelsplit.check.config import parse_setting

    assert parse_setting(text) == parsed


def test_overrides_layer_over_the_file_and_record_where_from() -> None:
    from kernelsplit.check.config import apply_overrides

    base = parse_config({"select": ["KS101"], "extend-select": ["KS103"], "ignore": ["KS105", "KS109"]}, HERE)
    out = apply_overrides(base, select=("KS105,KS106",), ignore=("KS106",), settings=("KS103=7",), fail_on="info")
    assert out.select == {"KS105", "KS106"} and out.extend_select == frozenset()
    assert out.ignore == {"KS106", "KS109"}  # KS105 selected on the command line beats the file's ignore
    assert out.enabled("KS105") == (True, "selected (--select)")
    assert out.enabled("KS106") == (False, "ignored (--ignore)")
    assert out.enabled("KS103") == (False, "not selected (--select)")
    assert (out.thresholds, out.source("thresholds.abs-max")) == ({"abs-max": 7.0}, "--set")
    assert (out.fail_on, out.source("fail-on")) == ("info", "--fail-on")
    assert base.select == {"KS101"} and base.thresholds == {}, "the file's config is left alone"
