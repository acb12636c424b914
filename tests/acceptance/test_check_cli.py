"""``kernelsplit check`` through click: exit codes for every outcome and every format, the schemas,
SARIF 2.1.0 validity, directory/glob discovery, and configuration discovery and errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES, REPO, SHARED

from kernelsplit.cli import cli

RULES_DIR = FIXTURES / "rules"
FORMATS = ("text", "json", "markdown", "sarif", "github")
SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
CHECK_SCHEMA = json.loads((REPO / "kernelsplit" / "schemas" / "check-1.json").read_text())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder (no config above it in tmp), with a few fixtures copied in."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    models = tmp_path / "models"
    models.mkdir()
    for name in ("healthy.keras", "nan.keras", "untrained.keras", "lambda.keras"):
        shutil.copy(RULES_DIR / name, models / name)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def validate_check_json(text: str) -> dict:
    data = json.loads(text)
    jsonschema.validate(data, CHECK_SCHEMA)
    return data


def validate_sarif(text: str) -> dict:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"{SARIF_SCHEMA} is absent: the SARIF 2.1.0 schema lives in ../shared on team machines")
    schema = json.loads(SARIF_SCHEMA.read_text())
    data = json.loads(text)
    jsonschema.validators.validator_for(schema)(schema).validate(data)
    return data


# --- exit codes, every format ------------------------------------------------------------------

OUTCOMES = {
    0: ["models/healthy.keras"],
    1: ["models/nan.keras"],
    2: ["missing.keras"],
    3: ["empty"],
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", sorted(OUTCOMES))
def test_exit_codes_every_format(workdir: Path, fmt: str, code: int) -> None:
    (workdir / "empty").mkdir()
    status, out, err = run(*OUTCOMES[code], "--format", fmt)
    assert status == code, (out, err)
    if fmt == "json":
        assert validate_check_json(out)["exit_code"] == code
    if fmt == "sarif":
        data = validate_sarif(out)
        assert data["runs"][0]["invocations"][0]["exitCode"] == code
    if code == 2:
        assert "kernelsplit: error: missing.keras: no such file or directory" in err


def test_a_file_that_is_not_a_model_is_skipped_and_listed_unless_strict(workdir: Path) -> None:
    import h5py
    import numpy as np

    (workdir / "models" / "notes.txt").write_text("not a model")
    with h5py.File(workdir / "models" / "data.h5", "w") as h5:  # HDF5, but a data file, not Keras
        h5["x"] = np.arange(3)
    for named in ("models/notes.txt", "models/data.h5"):
        status, out, err = run(named)  # what a pre-commit hook does with every *.h5
        assert status == 0 and err == "", err
        assert f"skipped {named}: " in out and "passed" in out
        status, _, err = run(named, "--strict")
        assert status == 2 and f"kernelsplit: error: {named}: " in err
    status, out, err = run("models", "--format", "json", "--fail-on", "none")
    assert status == 0 and err == ""
    data = validate_check_json(out)
    assert {a["path"] for a in data["artifacts"]}.isdisjoint({"models/notes.txt", "models/data.h5"})
    skipped = {s["path"]: (s["kind"], s["reason"]) for s in data["skipped"]}
    assert skipped["models/data.h5"] == ("not-a-model", "HDF5 file, but not a Keras model or weights file")
    assert skipped["models/notes.txt"][0] == "content"
    assert data["summary"]["skipped"] == len(data["skipped"]) == 2


def test_directory_walk_finds_models_by_content(workdir: Path) -> None:
    (workdir / "models" / "notes.txt").write_text("not a model")
    (workdir / "models" / "renamed.bin").write_bytes((RULES_DIR / "healthy.h5").read_bytes())
    hidden = workdir / "models" / ".cache"
    hidden.mkdir()
    shutil.copy(RULES_DIR / "nan.keras", hidden / "nan.keras")
    status, out, _ = run("models", "--format", "json", "--fail-on", "none")
    data = validate_check_json(out)
    paths = sorted(a["path"] for a in data["artifacts"])
    assert paths == sorted(
        f"models/{n}" for n in ("healthy.keras", "lambda.keras", "nan.keras", "renamed.bin", "untrained.keras")
    )
    assert status == 0


def test_savedmodel_and_unzipped_keras_folders_are_one_artifact(workdir: Path) -> None:
    shutil.copytree(FIXTURES / "savedmodel" / "k3_export", workdir / "models" / "export")
    _, out, _ = run("models", "--format", "json", "--fail-on", "none")
    data = json.loads(out)
    assert "models/export" in {a["path"] for a in data["artifacts"]}
    assert not any(a["path"].startswith("models/export/") for a in data["artifacts"])


def test_globs_are_expanded(workdir: Path) -> None:
    status, out, _ = run("models/*.keras", "--format", "json", "--fail-on", "none")
    assert status == 0 and len(json.loads(out)["artifacts"]) == 4
    status, _, err = run("nothing/*.keras")
    assert status == 3 and "no model file found" in err


def test_unreadable_beats_findings(workdir: Path) -> None:
    (workdir / "models" / "broken.keras").write_bytes((RULES_DIR / "healthy.keras").read_bytes()[:500])
    status, out, err = run("models", "--format", "json")
    assert status == 2 and "broken.keras" in err
    data = validate_check_json(out)
    assert data["summary"]["unreadable"] == 1 and data["summary"]["error"] == 1


@pytest.mark.parametrize(("level", "code"), [("error", 0), ("warning", 1), ("info", 1), ("none", 0)])
def test_fail_on(workdir: Path, level: str, code: int) -> None:
    assert run("models/untrained.keras", "--fail-on", level)[0] == code
    # an info-only finding fails only at --fail-on info
    assert run("models/lambda.keras", "--fail-on", level)[0] == (1 if level == "info" else 0)


# --- formats ------------------------------------------------------------------------------------


def test_json_names_every_rule_and_finding(workdir: Path) -> None:
    status, out, _ = run("models", "--format", "json")
    data = validate_check_json(out)
    assert status == 1
    assert [r["code"] for r in data["rules"]] == [f"KS1{n:02d}" for n in range(1, 12)]
    nan = next(f for f in data["findings"] if f["code"] == "KS101")
    assert (nan["path"], nan["layer"], nan["part"], nan["gate"]) == ("models/nan.keras", "enc", "kernel", "f")
    assert nan["message"].startswith("models/nan.keras: layer enc kernel[f]: 1 NaN")


def test_sarif_rules_and_relative_uris(workdir: Path) -> None:
    _, out, _ = run("models", "--format", "sarif")
    data = validate_sarif(out)
    run0 = data["runs"][0]
    rule_ids = [r["id"] for r in run0["tool"]["driver"]["rules"]]
    assert rule_ids[:3] == ["KS101", "KS102", "KS103"]
    assert "Pascanu" in run0["tool"]["driver"]["rules"][rule_ids.index("KS106")]["fullDescription"]["text"]
    for result in run0["results"]:
        assert result["ruleId"] == rule_ids[result["ruleIndex"]]
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uriBaseId"] == "%SRCROOT%" and location["uri"].startswith("models/")
    levels = {r["ruleId"]: r["level"] for r in run0["results"]}
    assert levels == {"KS101": "error", "KS105": "warning", "KS110": "note"}


def test_sarif_unreadable_is_a_notification(workdir: Path) -> None:
    (workdir / "x.keras").write_bytes(b"PK\x03\x04broken")
    status, out, _ = run("x.keras", "--format", "sarif")
    data = validate_sarif(out)
    invocation = data["runs"][0]["invocations"][0]
    assert status == 2 and invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["level"] == "error"


def test_github_annotations(workdir: Path) -> None:
    status, out, _ = run("models", "--format", "github")
    lines = out.splitlines()
    assert "::error file=models/nan.keras,title=KS101 non-finite::layer enc kernel[f]: 1 NaN of 16 values" in lines
    assert any(line.startswith("::warning file=models/untrained.keras,title=KS105 untrained::") for line in lines)
    assert any(line.startswith("::notice file=models/lambda.keras,") for line in lines)
    assert status == 1


def test_markdown_appends_to_step_summary(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = workdir / "summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    status, out, _ = run("models", "--format", "markdown")
    assert status == 1 and "| ❌ error | `KS101` non-finite |" in out
    text = summary.read_text()
    assert text.startswith("# earlier step\n") and "## kernelsplit check: failed" in text
    run("models", "--format", "json")  # other formats do not touch the summary
    assert summary.read_text() == text


def test_text_and_output_file(workdir: Path) -> None:
    status, out, _ = run("models", "-o", "report.json", "--format", "json")
    assert status == 1 and out == ""
    validate_check_json((workdir / "report.json").read_text())
    status, out, _ = run("models")
    assert "KS101" in out and "failed" in out and "\x1b[" not in out  # no colour off a terminal


# --- configuration ------------------------------------------------------------------------------


def test_pyproject_discovered_from_a_subfolder(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.kernelsplit]\nignore = ["KS101"]\nfail-on = "warning"\n'
    )
    sub = workdir / "models"
    monkeypatch.chdir(sub)
    status, out, _ = run(".", "--format", "json")
    data = json.loads(out)
    assert data["config"] == str(workdir / "pyproject.toml")
    assert "KS101" not in {f["code"] for f in data["findings"]}
    assert data["fail_on"] == "warning" and status == 1  # KS105 warning fails at warning
    assert run("nan.keras", "--fail-on", "error")[0] == 0  # the flag beats the config


def test_kernelsplit_toml_wins_and_sets_severity_thresholds_per_path(workdir: Path) -> None:
    (workdir / "pyproject.toml").write_text('[tool.kernelsplit]\nignore = ["KS105"]\n')
    (workdir / "kernelsplit.toml").write_text(
        'ignore = ["executable-layers"]\n'
        '[severity]\nuntrained = "error"\n'
        "[thresholds]\nabs-max = 0.5\n"
        '[per-path-ignores]\n"models/nan.keras" = ["KS101"]\n'
    )
    status, out, _ = run("models", "--format", "json")
    data = validate_check_json(out)
    codes = {(f["code"], f["path"], f["severity"]) for f in data["findings"]}
    assert ("KS105", "models/untrained.keras", "error") in codes
    assert not any(c == "KS110" for c, _, _ in codes)
    assert not any(c == "KS101" for c, _, _ in codes)
    assert any(c == "KS103" for c, _, _ in codes)  # abs-max 0.5 trips on trained weights
    assert status == 1


def test_explicit_config_file(workdir: Path) -> None:
    (workdir / "ci.toml").write_text('[tool.kernelsplit]\nseverity = { KS110 = "error" }\n')
    assert run("models/lambda.keras")[0] == 0
    assert run("models/lambda.keras", "--config", "ci.toml")[0] == 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[tool.kernelsplit]\nignroe = ["KS101"]\n', "unknown key(s) 'ignroe'"),
        ('[tool.kernelsplit]\nignore = ["KS999"]\n', "unknown rule 'KS999'"),
        ('[tool.kernelsplit]\nignore = "KS101"\n', "must be a list"),
        ("[tool.kernelsplit.thresholds]\nabs_max = 3\n", "unknown threshold 'abs_max'"),
        ('[tool.kernelsplit.thresholds]\nabs-max = "big"\n', "must be a number"),
        ('[tool.kernelsplit.severity]\nKS101 = "fatal"\n', "must be one of error, warning, info"),
        ('[tool.kernelsplit]\nfail-on = "never"\n', "fail-on must be one of"),
        ("[tool.kernelsplit.diff]\nmax_drift = 1\n", "unknown key(s) in diff"),
        ("[tool.kernelsplit.thresholds]\nspectral-norm = nan\n", "must be a number, not NaN"),
        ("[tool.kernelsplit.diff]\nmax-drift = nan\n", "must be a number, not NaN"),
        ("[tool.kernelsplit\nignore = [\n", "malformed TOML"),
    ],
)
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_config_errors_exit_2(workdir: Path, text: str, needle: str, fmt: str) -> None:
    (workdir / "pyproject.toml").write_text(text)
    status, out, err = run("models/healthy.keras", "--format", fmt)
    assert status == 2 and needle in err and str(workdir / "pyproject.toml") in err
    assert out == ""


def test_missing_config_file_and_bad_flag_exit_2(workdir: Path) -> None:
    status, _, err = run("models", "--config", "nope.toml")
    assert status == 2 and "config file not found" in err
    assert run("models", "--format", "xml")[0] == 2


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "Infinity", "-1"])
@pytest.mark.parametrize("command", ["check", "inspect", "diff"])
def test_a_timeout_must_be_a_finite_number_of_seconds(workdir: Path, command: str, value: str) -> None:
    """``nan`` or ``inf`` would mean no time limit at all and a parent spinning on its deadline."""
    files = ["models/healthy.keras"] * (2 if command == "diff" else 1)
    result = CliRunner().invoke(cli, [command, *files, "--timeout", value], catch_exceptions=False)
    assert result.exit_code == 2 and "Invalid value for '--timeout'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_diff_max_drift_must_be_finite(workdir: Path, value: str) -> None:
    """A NaN limit compares false with every drift: the diff would never fail."""
    args = ["diff", "models/healthy.keras", "models/nan.keras", "--max-drift", value]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2 and "is not a finite number" in result.stderr


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "junit", "gitlab"])
def test_show_settings_in_a_machine_format_is_a_usage_error(workdir: Path, fmt: str) -> None:
    status, out, err = run("--show-settings", "--output-format", fmt)
    assert status == 2 and out == ""
    assert err == f"kernelsplit: error: --show-settings prints text; it has no {fmt} form (leave out --output-format)\n"
    assert run("--show-settings")[0] == 0


def test_readme_samples_of_check_output_are_what_it_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's ``$ kernelsplit check models/ …`` samples, run on the models they name."""
    import h5py
    import numpy as np

    monkeypatch.chdir(tmp_path)
    models = tmp_path / "models"
    models.mkdir()
    for name in ("nan.keras", "spectral_norm.keras", "untrained.keras"):
        shutil.copy(RULES_DIR / name, models / name)
    with h5py.File(models / "data.h5", "w") as h5:
        h5["x"] = np.arange(3)
    readme = (REPO / "README.md").read_text()
    samples = re.findall(r"\n  \$ kernelsplit check (models/ [^\n]*)\n((?:  [^\n`]*\n)+)  ```", readme)
    assert {args for args, _ in samples} >= {"models/ --output-format concise", "models/ --statistics"}
    for args, block in samples:
        printed = run(*args.split())[1].splitlines()
        shown = [line[2:] for line in block.splitlines()]
        assert len(printed) == len(shown), (args, printed)
        for line, sample in zip(printed, shown, strict=True):
            assert line.startswith(sample[:-2]) if sample.endswith(" …") else line == sample, (args, line, sample)


@pytest.mark.skipif(not (SHARED / "realworld").is_dir(), reason=f"{SHARED / 'realworld'} is absent")
def test_realworld_corpus_passes_with_defaults_and_sarif_uses_file_uris_outside_cwd(workdir: Path) -> None:
    status, out, err = run(str(SHARED / "realworld" / "files"), "--format", "sarif")
    assert status == 0, err  # only warnings/info (documented) on the public corpus
    data = validate_sarif(out)
    uris = {a["location"]["uri"] for a in data["runs"][0]["artifacts"]}
    assert len(uris) == 21 and all(u.startswith("file:///") for u in uris)


def test_unwritable_output_file_is_one_line_exit_2(tmp_path: Path) -> None:
    code, _out, err = run(str(RULES_DIR / "healthy.keras"), "-o", str(tmp_path / "missing" / "report.txt"))
    assert code == 2
    assert err.strip().startswith(f"kernelsplit: error: {tmp_path / 'missing' / 'report.txt'}: cannot write")
    assert len(err.strip().splitlines()) == 1


def test_markdown_job_summary_gets_the_same_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run(str(RULES_DIR / "nan.keras"), "--format", "markdown")
    assert code == 1
    assert summary.read_text() == "earlier step\n" + out + ("" if out.endswith("\n") else "\n")


def test_forget_bias_of_minus_1000_is_a_finding_not_an_overflow(tmp_path: Path) -> None:
    import h5py

    path = Path(shutil.copy(FIXTURES / "keras3" / "zoo.weights.h5", tmp_path / "fb.weights.h5"))
    with h5py.File(path, "r+") as h5:
        bias = h5["layers/lstm/cell/vars/2"]
        values = bias[()]
        units = values.shape[0] // 4
        values[units : 2 * units] = -1000.0
        bias[...] = values
    code, out, err = run(str(path), "--format", "json")
    assert code == 0, err  # KS107 is a warning by default
    findings = json.loads(out)["findings"]
    assert any(f["code"] == "KS107" and f["layer"] == "lstm" for f in findings)


def test_a_fifo_in_a_checked_folder_is_skipped_not_opened(tmp_path: Path) -> None:
    import os

    shutil.copy(RULES_DIR / "healthy.keras", tmp_path / "healthy.keras")
    os.mkfifo(tmp_path / "pipe.h5")  # opening it would block the walk forever
    code, out, err = run(str(tmp_path), "--format", "json")
    assert code == 0, err
    assert [a["path"] for a in json.loads(out)["artifacts"]] == [str(tmp_path / "healthy.keras")]
