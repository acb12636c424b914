"""CI conventions (ruff, pip-audit, ModelAudit): ``--output-format`` (alias ``--format``) mapped
exhaustively onto each command's reporter registry, the JUnit and GitLab reports checked against the
shape their consumers read, ``-o/--output`` on every command that prints a report, ``--quiet``,
``--exit-zero`` and ``--statistics``."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import click
import jsonschema
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES

from kernelsplit.check.levels import FAIL_ON_LEVELS, LEVEL_RANK, Severity
from kernelsplit.cli import cli
from kernelsplit.render import check as render_check
from kernelsplit.render import diff as render_diff
from kernelsplit.render import inspect as render_inspect
from kernelsplit.render.check.gitlab import SEVERITY as GITLAB_SEVERITY

RULES = FIXTURES / "rules"
REGISTRIES = {"inspect": render_inspect, "check": render_check, "diff": render_diff}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": None}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "models").mkdir()
    for name in ("healthy.keras", "nan.keras", "untrained.keras", "lambda.keras", "spectral_norm.keras"):
        shutil.copy(RULES / name, tmp_path / "models" / name)
    (tmp_path / "models" / "notes.txt").write_text("not a model")
    (tmp_path / "models" / "broken.keras").write_bytes(b"PK\x03\x04 truncated")
    return tmp_path


def _command_args(command: str) -> list[str]:
    if command == "diff":
        return [str(RULES / "healthy.keras"), str(RULES / "reshaped.keras")]
    return [str(RULES / "nan.keras"), str(RULES / "healthy.keras")]


# --- the format name -> reporter mapping, exhaustively -------------------------------------------


@pytest.mark.parametrize("command", sorted(REGISTRIES))
def test_output_format_choices_are_exactly_the_registry(command: str) -> None:
    click_command = cli.get_command(click.Context(cli), command)
    assert click_command is not None
    option = next(p for p in click_command.params if p.name == "output_format")
    assert option.opts == ["--output-format", "--format"]
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == tuple(REGISTRIES[command].REPORTERS)


@pytest.mark.parametrize(
    ("command", "name"), [(c, n) for c, module in sorted(REGISTRIES.items()) for n in module.REPORTERS]
)
def test_every_format_name_maps_to_its_own_reporter(command: str, name: str) -> None:
    module = REGISTRIES[command]
    file, cls = module.REPORTERS[name].split(":")
    reporter_class = getattr(importlib.import_module(f"{module.__name__}.{file}"), cls)
    assert reporter_class.name == name
    made = module.reporter(name)
    assert type(made) is reporter_class
    # the alias and the option give the same bytes
    args = _command_args(command)
    assert run(command, *args, "--format", name) == run(command, *args, "--output-format", name)


def test_no_two_formats_share_a_reporter() -> None:
    for module in REGISTRIES.values():
        assert len(set(module.REPORTERS.values())) == len(module.REPORTERS)


# --- JUnit XML -----------------------------------------------------------------------------------

#: The shape of Jenkins' junit-10.xsd (the schema JUnit consumers read): elements, their required
#: and allowed attributes, and the children each may hold.
JUNIT_SHAPE: dict[str, tuple[set[str], set[str], set[str]]] = {
    "testsuites": (set(), {"name", "time", "tests", "failures", "disabled", "errors", "skipped"}, {"testsuite"}),
    "testsuite": (
        {"name", "tests"},
        {
            "name",
            "tests",
            "failures",
            "errors",
            "disabled",
            "skipped",
            "time",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
            "version",
        },
        {"properties", "testcase", "system-out", "system-err"},
    ),
    "testcase": (
        {"name"},
        {"name", "classname", "assertions", "time", "status", "file", "line"},
        {"skipped", "error", "failure", "system-out", "system-err"},
    ),
    "failure": (set(), {"message", "type"}, set()),
    "error": (set(), {"message", "type"}, set()),
    "skipped": (set(), {"message"}, set()),
    "system-out": (set(), set(), set()),
}
_COUNTS = {"tests", "failures", "errors", "skipped"}


def validate_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"

    def visit(element: ET.Element) -> None:
        required, allowed, children = JUNIT_SHAPE[element.tag]
        assert required <= set(element.attrib), (element.tag, element.attrib)
        assert set(element.attrib) <= allowed, (element.tag, element.attrib)
        for key in _COUNTS & set(element.attrib):
            assert element.attrib[key].isdigit(), (element.tag, key)
        for child in element:
            assert child.tag in children, (element.tag, child.tag)
            visit(child)

    visit(root)
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "0")) == len(cases)
        for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            assert int(suite.get(key, "0")) == sum(c.find(tag) is not None for c in cases)
    for key in _COUNTS:
        assert int(root.get(key, "0")) == sum(int(s.get(key, "0")) for s in suites)
    return root


def test_junit_report(workdir: Path) -> None:
    status, out, err = run("check", "models", "--output-format", "junit")
    assert status == 2 and "broken.keras" in err
    root = validate_junit(out)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    failure = suites["models/nan.keras"].find("testcase/failure")
    assert failure is not None and failure.get("type") == "error"
    assert failure.text == "models/nan.keras: layer enc kernel[f]: 1 NaN of 16 values"
    assert suites["models/healthy.keras"].find("testcase").get("name") == "kernelsplit check"  # type: ignore[union-attr]
    # below --fail-on (warnings at error): a passing case that carries the message
    untrained = suites["models/untrained.keras"].findall("testcase")
    assert len(untrained) == 2 and all(
        c.find("failure") is None and c.find("system-out") is not None for c in untrained
    )
    spectral = suites["models/spectral_norm.keras"].find("testcase/system-out")
    assert spectral is not None and "--set KS106.spectral-norm=N" in (spectral.text or "")
    error = suites["models/broken.keras"].find("testcase/error")
    assert error is not None and error.get("type") == "corrupt"
    skipped = suites["skipped"].findall("testcase")
    assert [c.find("skipped").get("message") for c in skipped] == [  # type: ignore[union-attr]
        "skipped 1 file: neither HDF5, a zip, nor a sharded-weights index (by content)"
    ]


@pytest.mark.parametrize("fail_on", FAIL_ON_LEVELS)
def test_junit_failures_follow_fail_on_for_every_severity(workdir: Path, fail_on: str) -> None:
    """Every severity x every --fail-on: a finding fails its test case exactly when it fails the run."""
    _, out, _ = run("check", "models", "--format", "junit", "--fail-on", fail_on)
    data = json.loads(run("check", "models", "--format", "json", "--fail-on", fail_on)[1])
    root = validate_junit(out)
    failing = {(f["path"], f["code"], f["layer"]) for f in data["findings"]}
    seen = 0
    for case in root.iter("testcase"):
        name = case.get("name", "")
        for path, code, layer in failing:
            if case.get("classname") == path and name.startswith(code) and (layer is None or f"layer {layer}" in name):
                finding = next(f for f in data["findings"] if (f["path"], f["code"], f["layer"]) == (path, code, layer))
                fails = LEVEL_RANK[finding["severity"]] >= LEVEL_RANK[fail_on]
                assert (case.find("failure") is not None) == fails, (name, fail_on)
                seen += 1
    assert seen == len(data["findings"]) == 5
    assert int(root.get("failures", "0")) == data["summary"]["failing"]


def test_junit_escapes_what_xml_cannot_hold() -> None:
    from support.memory import artifact, layer

    from kernelsplit.check.config import Config
    from kernelsplit.check.engine import CheckReport, rule_settings
    from kernelsplit.check.rules import Finding
    from kernelsplit.render.check.junit import CheckJunitReporter

    report = CheckReport(config=Config(), fail_on="info", settings=rule_settings(Config()))
    report.artifacts = [artifact("m<&>\x07.keras", layer("enc"))]
    report.findings = [Finding("KS110", "executable-layers", Severity.INFO, "m<&>\x07.keras", 'a "lam\x1b[31m" <x>')]
    import io

    stream = io.StringIO()
    CheckJunitReporter().write(report, stream)
    root = validate_junit(stream.getvalue())
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("classname") == "m<&>\\x07.keras"
    assert case.find("failure").get("message") == 'a "lam\\x1b[31m" <x>'  # type: ignore[union-attr]


# --- GitLab Code Quality ------------------------------------------------------------------------

#: The issue shape GitLab reads (docs.gitlab.com/ci/testing/code_quality, "Code Quality report format").
GITLAB_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {"type": "object", "required": ["begin"], "properties": {"begin": {"type": "integer"}}},
                },
            },
        },
    },
}


def test_gitlab_report(workdir: Path) -> None:
    status, out, _ = run("check", "models", "--output-format", "gitlab")
    issues = json.loads(out)
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert status == 2
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints), "GitLab shows only the first issue of a fingerprint"
    by_check = {(i["check_name"], i["location"]["path"]): i for i in issues}
    nan = by_check["KS101", "models/nan.keras"]
    assert (
        nan["severity"] == "major" and nan["description"] == "KS101 non-finite: layer enc kernel[f]: 1 NaN of 16 values"
    )
    assert by_check["KS106", "models/spectral_norm.keras"]["content"]["body"].startswith("threshold spectral-norm")
    assert by_check["kernelsplit/corrupt", "models/broken.keras"]["severity"] == "critical"
    # stable: the same findings give the same fingerprints on the next run
    assert [i["fingerprint"] for i in json.loads(run("check", "models", "--format", "gitlab")[1])] == fingerprints


@pytest.mark.parametrize("severity", list(Severity))
def test_gitlab_severity_mapping_is_total_and_ordered(severity: Severity) -> None:
    order = ["info", "minor", "major", "critical", "blocker"]
    assert GITLAB_SEVERITY[severity] in order
    for other in Severity:
        if LEVEL_RANK[other] < LEVEL_RANK[severity]:
            assert order.index(GITLAB_SEVERITY[other]) < order.index(GITLAB_SEVERITY[severity])


# --- -o/--output on every command that prints a report -------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["inspect", str(RULES / "healthy.keras")],
        ["inspect", str(RULES / "healthy.keras"), "--format", "summary"],
        ["inspect", str(RULES / "healthy.keras"), "--format", "json"],
        *[["check", "models", "--format", name] for name in render_check.REPORTERS],
        *[
            ["diff", str(RULES / "healthy.keras"), str(RULES / "finetuned.keras"), "--format", n]
            for n in render_diff.REPORTERS
        ],
    ],
    ids=lambda a: " ".join(x for x in a if not x.startswith("/")),
)
def test_output_file_gets_exactly_what_stdout_would(workdir: Path, args: list[str]) -> None:
    status, printed, err = run(*args)
    status_file, nothing, err_file = run(*args, "-o", "report.out")
    assert (status_file, nothing, err_file) == (status, "", err)
    assert (workdir / "report.out").read_text(encoding="utf-8") == printed


def test_inspect_output_file_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    status, _, err = run("inspect", str(RULES / "healthy.keras"), "-o", str(tmp_path / "no" / "such" / "dir.txt"))
    assert status == 2 and err.startswith(f"kernelsplit: error: {tmp_path}/no/such/dir.txt: cannot write the report")


# --- --quiet, --exit-zero, --statistics ----------------------------------------------------------


def test_quiet_prints_the_findings_only(workdir: Path) -> None:
    _, loud, _ = run("check", "models")
    status, quiet, _ = run("check", "models", "--quiet")
    assert status == 2
    assert "kernelsplit check" in loud and "kernelsplit check" not in quiet
    assert "skipped" in loud and "skipped" not in quiet and "help:" not in quiet
    assert "KS101 non-finite" in quiet and "KS110 executable-layers" in quiet
    _, diff_quiet, _ = run("diff", str(RULES / "healthy.keras"), str(RULES / "finetuned.keras"), "-q")
    assert "kernelsplit diff" not in diff_quiet and "values" in diff_quiet and "identical" not in diff_quiet


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_exit_zero_passes_findings_but_not_unreadable_files(workdir: Path, fmt: str) -> None:
    (workdir / "models" / "broken.keras").unlink()
    assert run("check", "models", "--format", fmt)[0] == 1
    status, out, _ = run("check", "models", "--format", fmt, "--exit-zero")
    assert status == 0
    if fmt == "json":
        assert json.loads(out)["exit_code"] == 0 and json.loads(out)["summary"]["failing"] == 1
    if fmt == "sarif":
        assert json.loads(out)["runs"][0]["invocations"][0]["exitCode"] == 0
    (workdir / "models" / "broken.keras").write_bytes(b"PK\x03\x04 truncated")
    assert run("check", "models", "--format", fmt, "--exit-zero")[0] == 2
    assert run("check", "empty_*", "--exit-zero")[0] == 3  # no input is still no input


def test_diff_exit_zero() -> None:
    old, new = str(RULES / "healthy.keras"), str(RULES / "reshaped.keras")
    assert run("diff", old, new)[0] == 1
    status, out, _ = run("diff", old, new, "--exit-zero", "--format", "json")
    assert status == 0 and json.loads(out)["exit_code"] == 0 and json.loads(out)["breaking"]


def test_statistics_count_findings_per_rule(workdir: Path) -> None:
    status, out, _ = run("check", "models", "--statistics", "--output-format", "concise")
    lines = out.splitlines()
    assert status == 2
    assert lines[:4] == [
        "2  KS105  [warning]  untrained",
        "1  KS101  [error]    non-finite",
        "1  KS106  [warning]  spectral-norm",
        "1  KS110  [info]     executable-layers",
    ]
    text = run("check", "models", "--statistics")[1]
    assert "2  KS105  warning  untrained" in text and "1 NaN of 16" not in text
    markdown = run("check", "models", "--statistics", "--format", "markdown")[1]
    assert "| 2 | `KS105` untrained | ⚠️ warning |" in markdown
    data = json.loads(run("check", "models", "--format", "json")[1])
    assert [(s["code"], s["count"]) for s in data["statistics"]] == [
        ("KS105", 2),
        ("KS101", 1),
        ("KS106", 1),
        ("KS110", 1),
    ]
    status, _, err = run("check", "models", "--statistics", "--format", "sarif")
    assert status == 2 and "--statistics applies to the text, concise, markdown formats" in err


# --- shell completion (click's) -------------------------------------------------------------------


def _complete(words: str, shell: str = "bash") -> tuple[int, str]:
    env = {"_KERNELSPLIT_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()))}
    result = CliRunner().invoke(cli, [], prog_name="kernelsplit", env=env)
    return result.exit_code, result.output


def test_shell_completion_script_and_completions() -> None:
    """The README's eval "$(_KERNELSPLIT_COMPLETE=bash_source kernelsplit)" line, and what it completes."""
    for shell in ("bash", "zsh", "fish"):
        result = CliRunner().invoke(cli, [], prog_name="kernelsplit", env={"_KERNELSPLIT_COMPLETE": f"{shell}_source"})
        assert result.exit_code == 0 and "_KERNELSPLIT_COMPLETE" in result.output
    from kernelsplit.cli import COMMANDS

    assert "rule" in COMMANDS
    assert _complete("kernelsplit ") == (0, "".join(f"plain,{c}\n" for c in COMMANDS))
    status, out = _complete("kernelsplit check --output-format ")
    assert status == 0 and out == "".join(f"plain,{name}\n" for name in render_check.REPORTERS)
    status, out = _complete("kernelsplit inspect --format ")
    assert out == "".join(f"plain,{name}\n" for name in render_inspect.REPORTERS)
