"""Folders, skipped files, Git LFS pointers and the pre-commit hook.

A Git LFS pointer where a model should be is an error everywhere (``lfs-pointer``, exit 2): named,
found by a walk, inside a SavedModel or unzipped ``.keras`` folder, as a checkpoint's data or a
shard. ``inspect DIR`` walks folders as ``check`` does. Everything a walk passes over is listed with
why (text, JSON, SARIF). A file that is not a model is skipped by ``check`` (``--strict``: an error)
and an error for ``inspect`` when named.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES, REPO

import kernelsplit
from kernelsplit.cli import cli
from kernelsplit.errors import LfsPointerError

RULES = FIXTURES / "rules"
POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)
MESSAGE = "Git LFS pointer, not the model: run git lfs pull"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": None}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    return tmp_path


def pointer(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(POINTER)
    return path


def data_h5(path: Path) -> Path:
    with h5py.File(path, "w") as h5:  # HDF5, but a data file, not a Keras model
        h5["x"] = np.arange(3)
    return path


# --- Git LFS pointers ---------------------------------------------------------------------------


NAMED = [["inspect"], ["inspect", "--format", "json"], ["check"], ["export", "-o", "out"], ["diff", "healthy.h5"]]


@pytest.mark.parametrize("command", NAMED, ids=lambda c: " ".join(c))
def test_a_named_lfs_pointer_is_an_error_everywhere(workdir: Path, command: list[str]) -> None:
    model = pointer(workdir / "models" / "model.h5")
    shutil.copy(RULES / "healthy.h5", workdir / "healthy.h5")
    status, out, err = run(*command, "models/model.h5")
    assert status == 2
    assert err.splitlines() == [f"kernelsplit: error: models/model.h5: {MESSAGE}"] or (
        command[0] == "check" and err.startswith(f"kernelsplit: error: models/model.h5: {MESSAGE}")
    )
    assert model.read_text() == POINTER
    if "json" in command:
        assert json.loads(out)["artifacts"][0]["error"] == {"code": "lfs-pointer", "message": MESSAGE}
    with pytest.raises(LfsPointerError):
        kernelsplit.open(model)


def test_a_walk_reports_model_pointers_and_skips_data_pointers(workdir: Path) -> None:
    shutil.copy(RULES / "healthy.keras", workdir / "models" / "healthy.keras")
    pointer(workdir / "models" / "model.h5")
    pointer(workdir / "models" / "train.csv")
    status, out, err = run("check", "models", "--format", "json")
    assert status == 2, "the pointer model was never checked: the gate must not pass"
    assert err == f"kernelsplit: error: models/model.h5: {MESSAGE}\n"
    data = json.loads(out)
    assert {a["path"]: a["error"] and a["error"]["code"] for a in data["artifacts"]} == {
        "models/healthy.keras": None,
        "models/model.h5": "lfs-pointer",
    }
    assert data["skipped"] == [
        {
            "path": "models/train.csv",
            "kind": "lfs-pointer",
            "reason": "Git LFS pointer (not pulled) to a file that is not a model by its name",
        }
    ]


def _savedmodel(where: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "savedmodel" / "k3_export", where))


def _unzipped_keras(where: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "legacy" / "unzipped_keras", where))


@pytest.mark.parametrize(
    ("make", "member"),
    [
        (_savedmodel, "variables/variables.data-00000-of-00001"),
        (_savedmodel, "variables/variables.index"),
        (_unzipped_keras, "model.weights.h5"),
    ],
)
def test_a_pointer_inside_an_artifact_folder_is_named(workdir: Path, make: object, member: str) -> None:
    folder = make(workdir / "models" / "artifact")  # type: ignore[operator]
    pointer(folder / member)
    for args in (["inspect", "models/artifact"], ["check", "models"]):
        status, _, err = run(*args)
        assert status == 2
        assert f"kernelsplit: error: models/artifact: {member} is a {MESSAGE}" in err


def test_pointers_as_shards_and_checkpoint_data(workdir: Path) -> None:
    legacy = FIXTURES / "legacy"
    for name in ("sharded.weights.json", "sharded_00000.weights.h5"):
        shutil.copy(legacy / name, workdir / "models" / name)
    pointer(workdir / "models" / "sharded_00001.weights.h5")
    status, _, err = run("inspect", "models/sharded.weights.json")
    assert (
        status == 2
        and err == f"kernelsplit: error: models/sharded.weights.json: sharded_00001.weights.h5 is a {MESSAGE}\n"
    )
    copy = Path(shutil.copytree(FIXTURES / "savedmodel" / "tfk_ckpt", workdir / "ckpt"))
    data = next(copy.glob("*.data-*"))
    pointer(data)
    status, _, err = run("inspect", "ckpt")
    assert status == 2 and f"{data.name} is a {MESSAGE}" in err


def test_a_text_file_that_merely_mentions_lfs_is_not_a_pointer(workdir: Path) -> None:
    (workdir / "models" / "notes.h5").write_text("see version https://git-lfs.github.com/spec/v1 for details\n")
    status, _, err = run("inspect", "models/notes.h5")
    assert status == 2 and "Git LFS" not in err and "not a Keras model" in err


# --- skipped files, listed with why --------------------------------------------------------------


def test_skipped_files_are_listed_in_text_json_and_sarif(workdir: Path) -> None:
    shutil.copy(RULES / "healthy.keras", workdir / "models" / "healthy.keras")
    data_h5(workdir / "models" / "data.h5")
    (workdir / "models" / "README.txt").write_text("not a model")
    (workdir / "models" / ".git").mkdir()
    (workdir / "models" / "__pycache__").mkdir()
    status, text, _ = run("check", "models")
    assert status == 0
    assert "skipped models/data.h5: HDF5 file, but not a Keras model or weights file" in text.splitlines()
    assert "skipped 1 file: neither HDF5, a zip, nor a sharded-weights index (by content)" in text
    assert "skipped 1 folder: hidden folder (not entered)" in text
    assert "skipped 1 folder: __pycache__ folder (not entered)" in text
    assert text.splitlines()[-1].endswith("0 unreadable, 4 skipped (failing at error)")
    skipped = json.loads(run("check", "models", "--format", "json")[1])["skipped"]
    assert {(s["path"], s["kind"]) for s in skipped} == {
        ("models/.git", "folder"),
        ("models/__pycache__", "folder"),
        ("models/README.txt", "content"),
        ("models/data.h5", "not-a-model"),
    }
    sarif = json.loads(run("check", "models", "--format", "sarif")[1])
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {n["level"] for n in notes} == {"note"}
    texts = [n["message"]["text"] for n in notes]
    assert "skipped models/data.h5: HDF5 file, but not a Keras model or weights file" in texts
    assert "skipped 1 folder: hidden folder (not entered)" in texts
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is True
    github = run("check", "models", "--format", "github")[1]
    assert "::notice file=models/data.h5,title=kernelsplit%3A skipped::HDF5 file, but not a Keras model" in github


def test_a_symbolic_link_to_a_folder_is_listed_as_skipped(workdir: Path) -> None:
    (workdir / "elsewhere").mkdir()
    shutil.copy(RULES / "nan.keras", workdir / "elsewhere" / "nan.keras")
    shutil.copy(RULES / "healthy.keras", workdir / "models" / "healthy.keras")
    (workdir / "models" / "linked").symlink_to(workdir / "elsewhere", target_is_directory=True)
    reason = "symbolic link to a folder (not followed)"
    for command in ("check", "inspect"):
        status, out, _ = run(command, "models", "--format", "json")
        document = json.loads(out)
        assert [a["path"] for a in document["artifacts"]] == ["models/healthy.keras"]
        assert document["skipped"] == [{"path": "models/linked", "kind": "special", "reason": reason}]
        assert status == 0
    assert f"skipped models/linked: {reason}" in run("check", "models")[1].splitlines()


# --- inspect walks folders like check -------------------------------------------------------------


def test_inspect_walks_a_folder_like_check(workdir: Path) -> None:
    shutil.copy(RULES / "healthy.keras", workdir / "models" / "healthy.keras")
    _savedmodel(workdir / "models" / "export")
    data_h5(workdir / "models" / "data.h5")
    (workdir / "models" / "sub").mkdir()
    shutil.copy(RULES / "healthy.h5", workdir / "models" / "sub" / "healthy.h5")
    status, out, err = run("inspect", "models", "--format", "json")
    assert status == 0 and err == ""
    document = json.loads(out)
    inspected = [a["path"] for a in document["artifacts"]]
    checked = [a["path"] for a in json.loads(run("check", "models", "--format", "json")[1])["artifacts"]]
    assert inspected == checked == ["models/export", "models/healthy.keras", "models/sub/healthy.h5"]
    assert document["skipped"] == [
        {"path": "models/data.h5", "kind": "not-a-model", "reason": "HDF5 file, but not a Keras model or weights file"}
    ]
    status, text, _ = run("inspect", "models")
    assert text.splitlines()[-1] == "skipped models/data.h5: HDF5 file, but not a Keras model or weights file"


def test_inspect_on_a_named_non_model_stays_an_error(workdir: Path) -> None:
    data_h5(workdir / "models" / "data.h5")
    status, _, err = run("inspect", "models/data.h5")
    assert status == 2 and err.startswith("kernelsplit: error: models/data.h5: HDF5 file, but not a Keras model")
    (workdir / "empty").mkdir()
    status, _, err = run("inspect", "empty")
    assert status == 2 and err == "kernelsplit: error: empty: no model file found in this folder\n"


# --- the pre-commit hook ---------------------------------------------------------------------------


def _hook() -> dict[str, str]:
    """The fields of .pre-commit-hooks.yaml's one hook (a flat YAML list item: key: value)."""
    text = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    fields = dict(re.findall(r"^\s*-?\s*([a-z_]+): (.+)$", text, re.M))
    assert fields["id"] == "kernelsplit-check"
    return fields


def test_pre_commit_hook_passes_data_files_and_fails_broken_models(workdir: Path) -> None:
    """pre-commit runs ``entry`` with the staged files matching ``files``: a plain HDF5 data file
    among them must not fail the hook; a NaN model or an LFS pointer must."""
    hook = _hook()
    entry = hook["entry"].split()
    assert entry[0] == "kernelsplit" and hook["language"] == "python"
    pattern = re.compile(hook["files"])
    shutil.copy(RULES / "healthy.keras", workdir / "models" / "healthy.keras")
    data_h5(workdir / "models" / "data.h5")
    (workdir / "models" / "notes.md").write_text("notes")
    staged = [p.relative_to(workdir).as_posix() for p in sorted((workdir / "models").iterdir())]
    matched = [p for p in staged if pattern.search(p)]
    assert matched == ["models/data.h5", "models/healthy.keras"]
    status, out, err = run(*entry[1:], *matched)
    assert status == 0 and err == "", out
    shutil.copy(RULES / "nan.keras", workdir / "models" / "nan.keras")
    assert run(*entry[1:], *matched, "models/nan.keras")[0] == 1
    pointer(workdir / "models" / "lfs.h5")
    assert run(*entry[1:], *matched, "models/lfs.h5")[0] == 2
