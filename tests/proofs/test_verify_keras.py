"""``kernelsplit verify`` against the real Keras installed for the tests, on every fixture and every
real-world file: every file Keras can load verifies (every gate block bit-exact, the reference forward
pass within tolerance of Keras's own outputs); the files it cannot load are exactly the known ones.
A gate swap injected into kernelsplit's split is caught (exit 1).

One ``verify`` call covers every file, so Keras 3 and tf-keras start once each (side by side). The
Keras side never depends on kernelsplit's reading, so the fault-injection test reuses its answers.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES, REALWORLD, SCHEMAS
from support.realworld import files as realworld_files

import kernelsplit.verify as verify_module
from kernelsplit.analysis import split as split_module
from kernelsplit.cli import cli
from kernelsplit.render.verify import reporter, summary
from kernelsplit.verify import VerifyReport, verify

pytest.importorskip("tensorflow")
pytest.importorskip("tf_keras")
pytest.importorskip("keras")

FIXTURE_FILES = sorted(
    str(p.parent / f["path"])
    for p in FIXTURES.glob("*/manifest.json")
    for f in json.loads(p.read_text(encoding="utf-8"))["files"]
)
REALWORLD_FILES = [str(REALWORLD / "files" / local) for local in realworld_files()]

#: Files that hold a model Keras (tf-keras 2.21 / Keras 3) itself fails to load, relative to fixtures/
#: or the corpus's files/: Keras 1 configs; tf.keras 2.12-2.14 .keras files and Windows-saved copies,
#: whose store names no other Keras reads (docs/formats.md); a Keras 3 export() SavedModel (no Keras
#: metadata); old configs tf-keras 2.21 rejects (Embedding dtype int32).
KERAS_CANNOT_LOAD = {
    "legacy/k1_tf.h5",
    "legacy/k1_th.h5",
    "legacy/k1_convlstm_tf.h5",
    "legacy/k1_convlstm_th.h5",
    "legacy/lcd.keras",
    "savedmodel/k3_export",
    *(f"tfk2_12/{n}.keras" for n in ("multi", "seq_second", "nested", "convlstm", "convlstm_windows")),
    *(f"tfk2_13/{n}.keras" for n in ("multi", "seq_second", "nested", "convlstm", "convlstm_windows")),
    *(f"tfk2_14/{n}.keras" for n in ("multi", "seq_second", "nested", "convlstm", "convlstm_windows")),
    "tfk2_15/convlstm_windows.keras",
    "CSE5393__Lab9/gru.h5",
    "functure__dga_predict/lstm__lstm.h5",
    "KonduitAI__dl4j-test-resources/src__main__resources__keras__simple__lstm_tf_model.h5",
    "KonduitAI__dl4j-test-resources/src__main__resources__modelimport__keras__examples__simple_lstm__simple_lstm_th_keras_1_model.h5",
}


def _relative(path: str) -> str:
    for root in (FIXTURES, REALWORLD / "files"):
        if path.startswith(str(root) + os.sep):
            return path[len(str(root)) + 1 :]
    return path


@pytest.fixture(scope="module")
def run() -> tuple[VerifyReport, dict[str, tuple[dict[str, Any], Any]]]:
    """One verify over every file (fixtures are ours, so their Lambda layers are trusted), and each
    file's Keras answer, kept for the fault-injection test."""
    answers: dict[str, tuple[dict[str, Any], Any]] = {}
    real = verify_module.run_keras

    def recording(framework: str, paths: list[str], trust_code: bool, seed: int) -> tuple[dict[str, Any], Any]:
        answer, arrays = real(framework, paths, trust_code, seed)
        for path, one in zip(paths, answer.get("files", []), strict=False):
            answers[path] = (one, arrays)
        return answer, arrays

    verify_module.run_keras = recording  # type: ignore[assignment]
    try:
        report = verify(FIXTURE_FILES + REALWORLD_FILES, trust_code=True, seed=7)
    finally:
        verify_module.run_keras = real  # type: ignore[assignment]
    return report, answers


def test_every_file_keras_loads_verifies(run: tuple[VerifyReport, Any]) -> None:
    report, _ = run
    problems = [
        (f.path, f.status, f.reason, [p for layer in f.layers for p in layer.problems], f.unmatched)
        for f in report.files
        if f.status in ("mismatch", "error")
    ]
    assert not problems
    for checked in report.files:
        if checked.status == "ok":
            assert all(layer.bit_exact and layer.ok for layer in checked.layers), checked.path


def test_the_files_keras_cannot_load_are_exactly_the_known_ones(run: tuple[VerifyReport, Any]) -> None:
    report, _ = run
    refused = {
        _relative(f.path) for f in report.files if f.status == "not-loaded" and "weights-only" not in str(f.reason)
    }
    expected = {p for p in KERAS_CANNOT_LOAD if any(_relative(f.path) == p for f in report.files)}
    assert refused == expected
    for checked in report.files:
        if checked.status == "not-loaded":
            assert str(checked.reason).startswith(("Keras cannot load it:", "a weights-only file")), checked.reason


def test_counts_for_the_record(run: tuple[VerifyReport, Any]) -> None:
    """The closing note's figures; guards against a silently shrinking proof."""
    report, _ = run
    for label, paths in (("fixtures", FIXTURE_FILES), ("real-world", REALWORLD_FILES)):
        mine = [f for f in report.files if f.path in set(paths)]
        if not mine:
            continue
        ok = [f for f in mine if f.status == "ok"]
        layers = [layer for f in ok for layer in f.layers]
        worst: dict[str, float] = {}
        for layer in layers:
            worst[layer.compute_dtype] = max(worst.get(layer.compute_dtype, 0.0), layer.forward_error or 0.0)
        errors = ", ".join(f"{dtype} {error:.2g}" for dtype, error in sorted(worst.items()))
        print(
            f"{label}: {len(ok)} of {len(mine)} files verified, {len(layers)} Keras layers bit-exact; worst: {errors}"
        )
        assert len(ok) >= {"fixtures": 27, "real-world": 12}[label]
    document = _json(report)
    jsonschema.validate(document, json.loads((SCHEMAS / "verify-1.json").read_text(encoding="utf-8")))
    assert document["exit_code"] == 2  # weights-only and unloadable files are in the batch
    assert summary(report)["mismatch"] == 0


def _json(report: VerifyReport) -> dict[str, Any]:
    import io

    stream = io.StringIO()
    reporter("json").write(report, stream)
    loaded: dict[str, Any] = json.loads(stream.getvalue())
    return loaded


def test_a_gate_swap_in_kernelsplits_split_is_caught(
    run: tuple[VerifyReport, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: kernelsplit's split renames the f and c blocks of every LSTM (z and r of every
    GRU). Keras's answer for the file is the real one (it never depends on kernelsplit)."""
    _, answers = run
    path = str(FIXTURES / "tf_keras" / "nested_frozen.h5")

    def cached(framework: str, paths: list[str], trust_code: bool, seed: int) -> tuple[dict[str, Any], Any]:
        (one, arrays) = answers[os.path.abspath(paths[0])]
        return {"files": [one]}, arrays

    original = split_module._split_last_axis
    swap = {"f": "c", "c": "f", "z": "r", "r": "z"}

    def swapped(*args: Any, **kwargs: Any) -> Any:
        from dataclasses import replace

        return [replace(block, gate=swap.get(block.gate, block.gate)) for block in original(*args, **kwargs)]

    monkeypatch.setattr(verify_module, "run_keras", cached)
    monkeypatch.setattr(split_module, "_split_last_axis", swapped)
    report = verify([path], seed=7)
    assert report.exit_code == 1
    (checked,) = report.files
    assert checked.status == "mismatch"
    for layer in checked.layers:
        assert (
            not layer.bit_exact
            and layer.forward_error is not None
            and layer.forward_error > 10 * (layer.tolerance or 0)
        )
        assert {(d.part, d.gate) for d in layer.differences} >= {("kernel", "f"), ("kernel", "c")} or {
            (d.part, d.gate) for d in layer.differences
        } >= {("kernel", "z"), ("kernel", "r")}
    result = CliRunner().invoke(cli, ["verify", path, "--seed", "7"], catch_exceptions=False)
    assert result.exit_code == 1 and "MISMATCH" in result.stdout
    assert "kernel[f]: kernelsplit" in result.stdout
