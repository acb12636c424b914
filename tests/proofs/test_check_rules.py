"""Every rule fires exactly where fixtures/rules/expected.json says, and nowhere on healthy models.

The fixtures are real Keras 3 models (fixtures/gen_rules.py) with one deliberate edit each. The
real-world corpus must raise no error or warning except the documented, genuinely untrained files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.paths import FIXTURES, REALWORLD, needs_shared

import kernelsplit
from kernelsplit.check.config import Config
from kernelsplit.check.engine import check_artifact, run_check
from kernelsplit.check.rules import RULES, recurrent_at_orthogonal_init

RULES_DIR = FIXTURES / "rules"
EXPECTED = json.loads((RULES_DIR / "expected.json").read_text())

#: Real-world files on which a warning fires by default, and why (README.md "kernelsplit check").
#: Both are DL4J import-test resources saved straight after build(): every recurrent layer is
#: bit-for-bit at Keras's initializers (orthogonal U, [0, 1, 0, 0] biases, Glorot-bounded W).
REALWORLD_WARNINGS = {
    "KonduitAI__dl4j-test-resources/src__main__resources__keras__simple__lstm_tf_model.h5": {
        ("KS105", "lstm_1"),
        ("KS105", "lstm_2"),
    },
    "KonduitAI__dl4j-test-resources/src__main__resources__modelimport__keras__tfkeras__convlstm2d_0.h5": {
        ("KS105", f"bidirectional{s}/{d}") for s in ("", "_1") for d in ("forward", "backward")
    },
}
#: KS111 (info): recurrent kernel exactly orthogonal while the biases trained (length-1 sequences).
REALWORLD_KS111 = {
    "BenedictOdhiambo__GRU-Deployment/gru_model.h5",
    "KonduitAI__dl4j-test-resources/src__main__resources__modelimport__keras__examples__simple_rnn__"
    "simple_rnn_tf_keras_2_model.h5",
    "Vingttrois__Time-series-forecasting/s2s.h5",
    "iwang1959__Stock-Price-LSTM/lstm_model.weights.h5",
}


def _key(finding_or_entry: object) -> tuple:
    get = finding_or_entry.get if isinstance(finding_or_entry, dict) else lambda k: getattr(finding_or_entry, k)
    return (get("code"), get("layer"), get("part"), get("gate"))


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_rule_fixture_findings_are_exact(name: str) -> None:
    artifact = kernelsplit.open(RULES_DIR / name)
    findings, failures = check_artifact(artifact, Config())
    assert not failures
    got = sorted(_key(f) for f in findings)
    entries = EXPECTED["files"][name]["findings"]
    want = sorted((e["code"], e.get("layer"), e.get("part"), e.get("gate")) for e in entries)
    assert got == want, EXPECTED["files"][name]["note"]


def test_every_rule_has_a_fixture() -> None:
    tripped = {e["code"] for entry in EXPECTED["files"].values() for e in entry["findings"]}
    assert tripped == {rule.code for rule in RULES}


def test_rule_metadata_is_complete() -> None:
    codes = [rule.code for rule in RULES]
    assert len(set(codes)) == len(codes) and all(c.startswith("KS1") for c in codes)
    for rule in RULES:
        assert rule.default_severity in ("error", "warning", "info")
        assert len(rule.description()) > 80, rule.code  # the docstring explains why
    errors = {rule.code for rule in RULES if rule.default_severity == "error"}
    assert errors == {"KS101", "KS108"}  # only non-finite and shape/config mismatch fail by default


@pytest.mark.parametrize("family", ["keras3", "tf_keras"])
def test_healthy_fixture_families_raise_no_error_or_warning(family: str) -> None:
    report = run_check([str(FIXTURES / family)], Config())
    assert report.artifacts and not report.errors
    assert [f.message for f in report.findings if f.severity != "info"] == []


def _realworld_files() -> list[str]:
    if not REALWORLD.is_dir():
        return []
    manifest = (REALWORLD / "MANIFEST.tsv").read_text().splitlines()[1:]
    return [line.split("\t")[0] for line in manifest if line.strip()]


@needs_shared
@pytest.mark.parametrize("local", _realworld_files())
def test_realworld_defaults(local: str) -> None:
    path = REALWORLD / "files" / local
    report = run_check([str(path)], Config())
    assert not report.errors, report.errors
    loud = {(f.code, f.layer) for f in report.findings if f.severity != "info"}
    assert loud == REALWORLD_WARNINGS.get(local, set())
    assert all(f.severity == "warning" for f in report.findings if f.severity != "info")  # exit 0
    assert report.exit_code == 0
    codes = {f.code for f in report.findings}
    assert ("KS111" in codes) == (local in REALWORLD_KS111)
    artifact = report.artifacts[0]
    inferred = {layer.name for layer in artifact.layers if layer.inferred}
    assert {f.layer for f in report.findings if f.code == "KS109"} == inferred


def test_orthogonality_survives_cudnn_and_keras1_layouts() -> None:
    # Keras 3 untrained: the fused (u, 4u) matrix is orthogonal, no single block is.
    layer = kernelsplit.open(RULES_DIR / "untrained.keras").layers[0]
    assert recurrent_at_orthogonal_init(layer)
    assert not recurrent_at_orthogonal_init(kernelsplit.open(RULES_DIR / "healthy.keras").layers[0])


FRESH_SCRIPT = textwrap.dedent("""
    import sys, keras
    keras.utils.set_random_seed(7)
    L = keras.layers
    out = sys.argv[1]
    x = keras.Input((5, 6))
    a = L.LSTM(256, return_sequences=True, name="lstm256")(x)
    b = L.GRU(128, return_sequences=True, reset_after=False, name="gru128")(a)
    c = L.SimpleRNN(64, return_sequences=True, name="rnn64")(b)
    d = L.Bidirectional(L.LSTM(32, return_sequences=True), name="bidi")(c)
    m = keras.Model(x, L.GRU(16, name="gru16")(d))
    m.save(out + "/fresh.keras")
    v = keras.Input((3, 8, 8, 2))
    keras.Model(v, L.ConvLSTM2D(8, 3, padding="same", name="conv")(v)).save(out + "/fresh_conv.keras")
""")


def test_untrained_detected_on_fresh_keras3_models_of_every_kind(tmp_path: Path) -> None:
    pytest.importorskip("keras")
    subprocess.run(
        [sys.executable, "-c", FRESH_SCRIPT, str(tmp_path)],
        check=True,
        capture_output=True,
        env={
            "CUDA_VISIBLE_DEVICES": "",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            **{k: v for k, v in __import__("os").environ.items() if k in ("PATH", "HOME")},
        },
    )
    for name, expected in (("fresh.keras", 6), ("fresh_conv.keras", 1)):
        artifact = kernelsplit.open(tmp_path / name)
        findings, failures = check_artifact(artifact, Config())
        assert not failures
        assert len(artifact.layers) == expected
        assert sorted(f.layer for f in findings if f.code == "KS105") == sorted(la.name for la in artifact.layers)
        assert {f.code for f in findings} == {"KS105"}
