"""``kernelsplit export`` on the command line: bad input, refusals, output-folder safety, atomicity."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from click.testing import CliRunner
from support.exporting import validate_manifest
from support.paths import FIXTURES

from kernelsplit.cli import cli
from kernelsplit.export import writers

ZOO = FIXTURES / "keras3" / "zoo.keras"
GRU_ONLY_LAYER = "gru_ra_true"


def run(*args: str, cwd: pathlib.Path | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    if cwd is None:
        result = runner.invoke(cli, ["export", *args])
    else:
        old = os.getcwd()
        os.chdir(cwd)
        try:
            result = runner.invoke(cli, ["export", *args])
        finally:
            os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def only_entries(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_default_output_folder_and_gate_filter(tmp_path: pathlib.Path) -> None:
    code, out, err = run(str(ZOO), "--gate", "f", cwd=tmp_path)
    assert code == 0, err
    folder = tmp_path / "zoo-keras-npy"
    assert only_entries(tmp_path) == ["zoo-keras-npy"]
    manifest = json.loads((folder / "manifest.json").read_text())
    validate_manifest(manifest)
    assert {a["gate"] for a in manifest["arrays"]} == {"f"}
    assert (folder / "my_lstm" / "kernel.f.npy").is_file()
    assert "wrote" in out and "zoo-keras-npy" in out


def test_gate_not_in_gru_lists_valid_gates(tmp_path: pathlib.Path) -> None:
    code, _, err = run(str(ZOO), "--layer", GRU_ONLY_LAYER, "--gate", "f", "-o", str(tmp_path / "out"))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"kernelsplit: error: {ZOO}: ")
    assert "gate f does not exist in the layers matching --layer gru_ra_true" in err
    assert "gru: z (update) r (reset) h (candidate)" in err
    assert only_entries(tmp_path) == []


def test_unknown_gate_and_part_are_usage_errors(tmp_path: pathlib.Path) -> None:
    code, _, err = run(str(ZOO), "--gate", "q", "-o", str(tmp_path / "out"))
    assert code == 2 and "unknown gate 'q'" in err and "gru: z (update) r (reset) h (candidate)" in err
    code, _, err = run(str(ZOO), "--part", "kernal", "-o", str(tmp_path / "out"))
    assert code == 2 and "unknown part 'kernal'" in err and "recurrent_kernel" in err
    assert only_entries(tmp_path) == []


@pytest.mark.parametrize(
    "args",
    [
        ("--layer", "no_such_layer"),
        ("--layer", "my_lstm", "--part", "recurrent_bias"),
        ("--layer", "simple", "--gate", "z"),
    ],
)
def test_filters_matching_nothing_exit_2(args: tuple[str, ...], tmp_path: pathlib.Path) -> None:
    code, _, err = run(str(ZOO), *args, "-o", str(tmp_path / "out"))
    assert code == 2 and err.startswith("kernelsplit: error: ") and err.count("\n") == 1, err
    assert only_entries(tmp_path) == []


def test_no_recurrent_layers_exit_2(tmp_path: pathlib.Path) -> None:
    code, _, err = run(str(FIXTURES / "keras3" / "dense_only.keras"), "-o", str(tmp_path / "out"))
    assert code == 2 and "no recurrent layers" in err


def test_unreadable_input_exit_2(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "not_a_model.h5"
    bad.write_bytes(b"hello")
    code, _, err = run(str(bad), "-o", str(tmp_path / "out"))
    assert code == 2 and err.startswith(f"kernelsplit: error: {bad}: ") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_unwritable_output_folder_exit_2(tmp_path: pathlib.Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, _, err = run(str(ZOO), "-o", str(blocker / "out"))
    assert code == 2
    assert err.count("\n") == 1 and "cannot write to output folder" in err, err
    if os.geteuid() != 0:  # root ignores permission bits
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, _, err = run(str(ZOO), "-o", str(locked / "out"))
        assert code == 2 and "cannot write to output folder" in err


def test_existing_output_needs_force(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "out"
    assert run(str(ZOO), "-o", str(target))[0] == 0
    before = (target / "manifest.json").read_bytes()
    code, _, err = run(str(ZOO), "--layout", "onnx", "--skip-unsupported", "-o", str(target))
    assert code == 2 and "already exists" in err and "--force" in err
    assert (target / "manifest.json").read_bytes() == before
    code, _, err = run(str(ZOO), "--layout", "onnx", "--skip-unsupported", "-o", str(target), "--force")
    assert code == 0, err
    assert json.loads((target / "manifest.json").read_text())["layout"] == "onnx"
    assert not (target / "my_lstm" / "kernel.i.npy").exists(), "the old export is replaced, not merged"
    assert only_entries(tmp_path) == ["out"], "no temp folders left behind"


def test_force_never_replaces_a_folder_that_is_not_an_export(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    code, _, err = run(str(ZOO), "-o", str(target), "--force")
    assert code == 2 and "not a kernelsplit export" in err
    assert only_entries(target) == ["notes.txt"]


def test_refusals_name_the_layer_and_reason(tmp_path: pathlib.Path) -> None:
    code, _, err = run(str(ZOO), "--layout", "pytorch", "-o", str(tmp_path / "out"))
    assert code == 2 and "gru_ra_false" in err and "reset_after=False" in err and "lstm_acts" in err
    assert only_entries(tmp_path) == []
    code, _, err = run(str(ZOO), "--layout", "pytorch", "--skip-unsupported", "-o", str(tmp_path / "out"))
    assert code == 0 and "warning" in err and "skipped gru_ra_false" in err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {r["layer"] for r in manifest["refused"]} == {"gru_ra_false", "lstm_acts"}
    code, _, err = run(str(FIXTURES / "keras3" / "convlstm1d.keras"), "--layout", "onnx", "-o", str(tmp_path / "conv"))
    assert code == 2 and "ONNX has no ConvLSTM" in err and not (tmp_path / "conv").exists()


def test_gate_filter_with_framework_layout_is_refused(tmp_path: pathlib.Path) -> None:
    code, _, err = run(str(ZOO), "--layout", "onnx", "--gate", "f", "-o", str(tmp_path / "out"))
    assert code == 2 and "only --layout keras" in err


def test_non_finite_values_refused_for_text_formats(tmp_path: pathlib.Path) -> None:
    import h5py
    import numpy as np

    src = tmp_path / "nan.weights.h5"
    with h5py.File(FIXTURES / "keras3" / "seq_dedup.weights.h5", "r") as original, h5py.File(src, "w") as copy:
        for key in original:
            original.copy(key, copy)
        for key, value in original.attrs.items():
            copy.attrs[key] = value
        data = copy["layers/lstm/cell/vars/0"]
        values = data[()]
        values[0, 0] = np.nan
        data[...] = values
    code, _, err = run(str(src), "--format", "json", "-o", str(tmp_path / "out"))
    assert code == 2 and "NaN/Inf" in err and not (tmp_path / "out").exists()
    assert run(str(src), "--format", "npy", "-o", str(tmp_path / "out"))[0] == 0


def test_failure_midway_leaves_nothing_complete(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk error on the 5th file: no output folder appears, no temp folder stays, an old export survives.

    ``--jobs 0`` writes in this process, where the patched writer is (workers import their own).
    """
    calls = {"n": 0}
    real = writers.NpyWriter.write

    def failing(self: writers.NpyWriter, path: pathlib.Path, arrays: list, context: object = None) -> None:  # type: ignore[type-arg]
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        real(self, path, arrays, context)  # type: ignore[arg-type]

    monkeypatch.setattr(writers.NpyWriter, "write", failing)
    code, _, err = run(str(ZOO), "--jobs", "0", "-o", str(tmp_path / "out"))
    assert code == 2 and "No space left on device" in err and err.count("\n") == 1
    assert only_entries(tmp_path) == []

    monkeypatch.setattr(writers.NpyWriter, "write", real)
    assert run(str(ZOO), "--format", "npy", "-o", str(tmp_path / "out"))[0] == 0
    before = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "out").rglob("*"))
    calls["n"] = 0
    monkeypatch.setattr(writers.NpyWriter, "write", failing)
    code, _, _ = run(str(ZOO), "--jobs", "0", "--layer", "my_lstm", "-o", str(tmp_path / "out"), "--force")
    assert code == 2
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "out").rglob("*")) == before
    assert only_entries(tmp_path) == ["out"]
