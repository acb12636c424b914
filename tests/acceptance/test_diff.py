"""``kernelsplit diff``: across formats, drift, shape changes, added/removed layers, --max-drift,
every format and exit code; JSON validated against kernelsplit/schemas/diff-1.json."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES, REPO

import kernelsplit
from kernelsplit.analysis.diff import diff_artifacts
from kernelsplit.cli import cli

RULES_DIR = FIXTURES / "rules"
EXPECTED = json.loads((RULES_DIR / "expected.json").read_text())
DIFF_SCHEMA = json.loads((REPO / "kernelsplit" / "schemas" / "diff-1.json").read_text())
FORMATS = ("text", "json", "markdown", "github")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["diff", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def diff_json(old: str, new: str, *extra: str) -> tuple[int, dict]:
    status, out, _ = run(str(RULES_DIR / old), str(RULES_DIR / new), "--format", "json", *extra)
    data = json.loads(out)
    jsonschema.validate(data, DIFF_SCHEMA)
    assert data["exit_code"] == status
    return status, data


@pytest.mark.parametrize("case", EXPECTED["diffs"], ids=lambda c: f"{c['old']}->{c['new']}")
def test_expected_diffs(case: dict) -> None:
    status, data = diff_json(case["old"], case["new"])
    assert status == case["exit_code"] and data["identical"] is case["identical"]
    if case["identical"]:
        return
    by_status: dict[str, set[str]] = {}
    for layer in data["layers"]:
        by_status.setdefault(layer["status"], set()).add(layer["name"])
    assert by_status.get("added", set()) == set(case["added"])
    assert by_status.get("removed", set()) == set(case["removed"])
    shape = {la["name"] for la in data["layers"] if any(t["status"] == "shape-changed" for t in la["tensors"])}
    assert shape == set(case["shape_changed"])


def test_h5_and_keras_of_the_same_model_are_identical() -> None:
    status, data = diff_json("healthy.h5", "healthy.keras")
    assert status == 0 and data["identical"] and data["breaking"] == []
    for layer in data["layers"]:
        assert layer["status"] == "identical" and layer["config_changes"] == []
        assert all(t["old_sha256"] == t["new_sha256"] and t["relative_change"] == 0.0 for t in layer["tensors"])


def test_weights_only_file_pairs_layers_by_content() -> None:
    status, data = diff_json("healthy.weights.h5", "healthy.keras")
    assert status == 0 and data["identical"]
    assert {(la["old_name"], la["new_name"]) for la in data["layers"]} == {("lstm", "enc"), ("gru", "dec")}


def test_finetuned_drift_and_max_drift() -> None:
    status, data = diff_json("healthy.keras", "finetuned.keras")
    assert status == 0 and not data["identical"]
    changes = [t["relative_change"] for la in data["layers"] for t in la["tensors"]]
    bound = EXPECTED["diffs"][1]["max_relative_drift_below"]
    assert all(0 < c < bound for c in changes)
    assert all(t["max_abs_change"] < 1e-2 for la in data["layers"] for t in la["tensors"])
    assert diff_json("healthy.keras", "finetuned.keras", "--max-drift", str(bound))[0] == 0
    status, data = diff_json("healthy.keras", "finetuned.keras", "--max-drift", "0.001")
    assert status == 1 and any("drift" in reason for reason in data["breaking"])


def test_relative_change_is_frobenius() -> None:
    old = kernelsplit.open(RULES_DIR / "healthy.keras")
    new = kernelsplit.open(RULES_DIR / "forget_bias.keras")  # healthy with one block edited
    report = diff_artifacts(old, new)
    import numpy as np

    enc = next(la for la in report.layers if la.name == "enc")
    t = next(t for t in enc.tensors if t.part == "bias" and t.gate == "f")
    a = old.layers[0].tensor("bias", "f").array.astype(np.float64)
    b = new.layers[0].tensor("bias", "f").array.astype(np.float64)
    assert t.relative_change == pytest.approx(np.linalg.norm(b - a) / np.linalg.norm(a))
    assert t.max_abs_change == pytest.approx(np.abs(b - a).max())
    assert sum(t.status == "changed" for la in report.layers for t in la.tensors) == 1


def test_nan_drift_counts_as_exceeding() -> None:
    status, data = diff_json("healthy.keras", "nan.keras", "--max-drift", "10")
    assert status == 1
    changed = [t for la in data["layers"] for t in la["tensors"] if t["status"] == "changed"]
    assert len(changed) == 1 and changed[0]["relative_change"] is None


def test_config_change_is_reported_not_breaking() -> None:
    status, data = diff_json("healthy.h5", "config_mismatch.h5")
    enc = next(la for la in data["layers"] if la["name"] == "enc")
    assert status == 0 and enc["status"] == "changed"
    assert enc["config_changes"] == [{"key": "units", "old": 8, "new": 9}]
    assert all(t["status"] == "identical" for t in enc["tensors"])


def test_max_drift_from_config(tmp_path: Path) -> None:
    (tmp_path / "kernelsplit.toml").write_text("[diff]\nmax-drift = 0.001\n")
    assert run(str(RULES_DIR / "healthy.keras"), str(RULES_DIR / "finetuned.keras"))[0] == 1
    assert run(str(RULES_DIR / "healthy.keras"), str(RULES_DIR / "finetuned.keras"), "--max-drift", "1")[0] == 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("healthy.h5", "healthy.keras", 0),
        ("healthy.keras", "reshaped.keras", 1),
        ("reshaped.keras", "healthy.keras", 1),
        ("healthy.keras", "missing.keras", 2),
    ],
)
def test_exit_codes_every_format(fmt: str, old: str, new: str, code: int) -> None:
    status, out, err = run(str(RULES_DIR / old), str(RULES_DIR / new), "--format", fmt)
    assert status == code, err
    if code == 2:
        assert "missing.keras: no such file or directory" in err
        return
    if fmt == "github":
        annotations = [line for line in out.splitlines() if line.startswith("::error file=")]
        assert bool(annotations) == (code == 1)
    if fmt == "markdown":
        assert out.startswith("## kernelsplit diff: " + ("identical" if code == 0 else "breaking changes"))
    if fmt == "text" and old == "reshaped.keras":
        assert "breaking: layer extra removed" in out


def test_markdown_step_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run(str(RULES_DIR / "healthy.keras"), str(RULES_DIR / "reshaped.keras"), "--format", "markdown")
    text = summary.read_text()
    assert "## kernelsplit diff: breaking changes" in text and "| extra | added |" in text


def test_usage_errors() -> None:
    assert run(str(RULES_DIR / "healthy.keras"))[0] == 2
    assert run(str(RULES_DIR / "healthy.keras"), str(RULES_DIR / "healthy.keras"), "--max-drift", "-1")[0] == 2
