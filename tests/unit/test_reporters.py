"""Every reporter of every command, fed reports built in memory (no file is read).

The acceptance tests run the same formats through the CLI on real files; these pin what each
format says for each verdict, how it escapes, and that the machine formats match their schemas.
"""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import pytest
from support.memory import artifact, layer
from support.paths import SCHEMAS

from kernelsplit.analysis.diff import DiffVerdict, diff_artifacts
from kernelsplit.analysis.select import Selection
from kernelsplit.check.config import Config
from kernelsplit.check.engine import CheckReport, Verdict, rule_settings
from kernelsplit.check.levels import Severity
from kernelsplit.check.rules import RULES, Finding
from kernelsplit.errors import CorruptFileError
from kernelsplit.model import Failure
from kernelsplit.render.check import REPORTERS as CHECK_REPORTERS
from kernelsplit.render.check import reporter as check_reporter
from kernelsplit.render.diff import REPORTERS as DIFF_REPORTERS
from kernelsplit.render.diff import reporter as diff_reporter
from kernelsplit.render.inspect import reporter as inspect_reporter

MODEL = "models/m.keras"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def check_report(*, errors: bool = True, findings: bool = True, fail_on: str = "error") -> CheckReport:
    config = Config()
    report = CheckReport(config=config, fail_on=fail_on, settings=rule_settings(config))
    report.artifacts = [artifact(MODEL, layer("enc"))]
    if findings:
        report.findings = [
            Finding("KS101", "non-finite", Severity.ERROR, MODEL, "1 NaN of 12 values", "enc", "kernel", "f", 1.0),
            Finding(
                "KS106",
                "spectral-norm",
                Severity.WARNING,
                MODEL,
                "spectral norm 127.8 > 100",
                "enc",
                "recurrent_kernel",
                "c",
                127.8,
                100.0,
            ),
            Finding("KS110", "executable-layers", Severity.INFO, MODEL, "contains [bold]lam[/] (Lambda), x|y"),
        ]
    if errors:
        report.errors = [("bad, file.h5", CorruptFileError("truncated HDF5 | at 10%\nsecond line"))]
    return report


def render(reporter: Any, report: Any) -> str:
    stream = io.StringIO()
    reporter.write(report, stream)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("kwargs", "verdict", "code"),
    [
        ({}, Verdict.UNREADABLE, 2),
        ({"errors": False}, Verdict.FAILED, 1),
        ({"errors": False, "fail_on": "none"}, Verdict.PASSED, 0),
        ({"errors": False, "findings": False}, Verdict.PASSED, 0),
    ],
)
def test_verdict_and_exit_code(kwargs: dict[str, Any], verdict: Verdict, code: int) -> None:
    report = check_report(**kwargs)
    assert (report.verdict, report.exit_code) == (verdict, code)


def test_no_artifact_is_no_input_unless_a_file_was_unreadable() -> None:
    report = check_report(errors=False, findings=False)
    report.artifacts = []
    assert (report.verdict, report.exit_code) == (Verdict.NO_INPUT, 3)


def test_settings_are_resolved_once_with_the_configuration() -> None:
    config = Config(ignore=frozenset({"KS109"}), severity={"KS105": Severity.ERROR}, thresholds={"abs-max": 7.0})
    settings = {s.code: s for s in rule_settings(config)}
    assert list(settings) == [rule.code for rule in RULES]
    assert not settings["KS109"].enabled and settings["KS101"].enabled
    assert settings["KS105"].severity == "error" and settings["KS106"].severity == "warning"
    assert settings["KS103"].thresholds == {"abs-max": 7.0}
    assert settings["KS106"].thresholds == {"spectral-norm": 500.0}


def test_check_json_matches_its_schema_and_carries_the_settings() -> None:
    config = Config(severity={"KS106": Severity.ERROR})
    report = check_report()
    report.config, report.settings = config, rule_settings(config)
    document = json.loads(render(check_reporter("json"), report))
    jsonschema.validate(document, schema("check-1.json"))
    assert document["exit_code"] == 2
    assert document["summary"] == {
        "error": 1,
        "warning": 1,
        "info": 1,
        "artifacts": 1,
        "unreadable": 1,
        "failing": 1,
        "skipped": 0,
    }
    assert {r["code"]: r["severity"] for r in document["rules"]}["KS106"] == "error"
    assert document["artifacts"][1]["error"] == {"code": "corrupt", "message": "truncated HDF5 | at 10%\nsecond line"}


def test_check_text_names_each_finding_and_never_reads_markup_from_a_file() -> None:
    out = render(check_reporter("text"), check_report())
    assert "recurrent_kernel[c]" in out and "KS106 spectral-norm" in out
    assert "[bold]lam[/]" in out  # a file's text is shown as text, not as rich markup
    assert "unreadable input: 1 artifact(s), 1 error(s), 1 warning(s), 1 info, 1 unreadable" in out


def test_check_markdown_escapes_cells_and_titles_the_verdict() -> None:
    out = render(check_reporter("markdown"), check_report(errors=False))
    assert out.startswith("## kernelsplit check: failed")
    assert "x\\|y" in out  # a pipe from the file cannot break the table
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 3  # header + one row per finding
    assert "| kernel[f] |" in rows[1]


def test_check_github_escapes_workflow_command_syntax() -> None:
    lines = render(check_reporter("github"), check_report()).splitlines()
    assert (
        lines[0]
        == "::error file=bad%2C file.h5,title=kernelsplit%3A unreadable::truncated HDF5 | at 10%25%0Asecond line"
    )
    assert lines[1].startswith("::error file=models/m.keras,title=KS101 non-finite::layer enc kernel[f]: 1 NaN")
    assert lines[2].startswith("::warning ") and lines[3].startswith("::notice ")


def test_check_sarif_maps_levels_and_unreadable_files() -> None:
    document = json.loads(render(check_reporter("sarif"), check_report()))
    run = document["runs"][0]
    assert [r["level"] for r in run["results"]] == ["error", "warning", "note"]
    assert [r["ruleId"] for r in run["results"]] == ["KS101", "KS106", "KS110"]
    locations = run["results"][1]["locations"][0]["logicalLocations"]
    assert locations == [{"fullyQualifiedName": "enc/recurrent_kernel[c]", "kind": "member"}]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["invocations"][0]["toolExecutionNotifications"][0]["properties"]["code"] == "corrupt"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [rule.code for rule in RULES]


def test_every_registered_check_format_renders_every_verdict() -> None:
    for name in CHECK_REPORTERS:
        for kwargs in ({}, {"errors": False}, {"errors": False, "findings": False}):
            assert render(check_reporter(name), check_report(**kwargs)).strip(), (name, kwargs)


# ------------------------------------------------------------------------------------------ diff


def diff_report(max_drift: float | None = None) -> Any:
    old = artifact("old.keras", layer("enc", seed=0), layer("g", "GRU", seed=1), layer("gone", seed=5))
    new = artifact("new.keras", layer("enc", seed=0), layer("g", "GRU", seed=2), layer("added", seed=3))
    return diff_artifacts(old, new, max_drift=max_drift)


def test_diff_verdicts() -> None:
    same = diff_artifacts(artifact("a", layer("enc")), artifact("b", layer("enc")))
    assert (same.verdict, same.exit_code) == (DiffVerdict.IDENTICAL, 0)
    grown = diff_artifacts(artifact("a", layer("enc")), artifact("b", layer("enc"), layer("new", seed=4)))
    assert (grown.verdict, grown.exit_code) == (DiffVerdict.CHANGED, 0)
    report = diff_report()
    assert (report.verdict, report.exit_code) == (DiffVerdict.BREAKING, 1)
    assert report.breaking == ["layer gone removed"]


def test_diff_json_matches_its_schema() -> None:
    document = json.loads(render(diff_reporter("json"), diff_report(max_drift=0.01)))
    jsonschema.validate(document, schema("diff-1.json"))
    assert document["summary"] == {"identical": 1, "equivalent": 0, "changed": 1, "added": 1, "removed": 1}
    assert len(document["breaking"]) == 1 + 9  # the removed layer, and all 9 GRU blocks drifted


def test_diff_human_formats_say_what_changed() -> None:
    report = diff_report()
    markdown = render(diff_reporter("markdown"), report)
    assert markdown.startswith("## kernelsplit diff: breaking changes")
    assert "| g | changed | recurrent_kernel[z] | values |" in markdown
    text = render(diff_reporter("text"), report)
    assert "breaking: layer gone removed" in text and "recurrent_kernel[z]" in text
    github = render(diff_reporter("github"), report).splitlines()
    assert github == [
        "::error file=new.keras,title=kernelsplit diff::layer gone removed",
        "kernelsplit diff: 1 layer(s) changed, 1 breaking change(s)",
    ]
    for name in DIFF_REPORTERS:
        assert render(diff_reporter(name), report).strip()


# --------------------------------------------------------------------------------------- inspect


def test_inspect_json_holds_artifacts_and_failures_in_input_order() -> None:
    stream = io.StringIO()
    reporter = inspect_reporter("json", stream)
    good = artifact(MODEL, layer("enc"))
    reporter.add(good, Selection(gates=("f",)).apply(good))
    reporter.add(Failure("bad.h5", CorruptFileError("truncated")), [])
    reporter.finish()
    document = json.loads(stream.getvalue())
    jsonschema.validate(document, schema("inspect-1.json"))
    first, second = document["artifacts"]
    assert [(t["part"], t["gate"], t["selection"]) for t in first["layers"][0]["tensors"]] == [
        ("kernel", "f", "[:, 3:6]"),
        ("recurrent_kernel", "f", "[:, 3:6]"),
        ("bias", "f", "[3:6]"),
    ]
    assert second == {
        "path": "bad.h5",
        "format": "unknown",
        "keras_version": None,
        "backend": None,
        "executable_layers": [],
        "notes": [],
        "layers": [],
        "error": {"code": "corrupt", "message": "truncated"},
    }


def test_inspect_text_prints_each_artifact_as_it_comes() -> None:
    stream = io.StringIO()
    reporter = inspect_reporter("text", stream)
    good = artifact(MODEL, layer("enc"))
    reporter.add(good, Selection().apply(good))
    assert "enc  LSTM  cell=lstm  units=3" in stream.getvalue()  # rendered before finish()
    reporter.add(Failure("bad.h5", CorruptFileError("truncated")), [])
    reporter.finish()
    assert "bad.h5" not in stream.getvalue()  # failures go to stderr, from the command
