"""The keras export layout: manifests match the schema, digests equal inspect's, exports are deterministic."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from click.testing import CliRunner
from support.exporting import FAMILIES, do_export, read_array
from support.fixtures import file_cases
from support.paths import FIXTURES

from kernelsplit.cli import cli
from kernelsplit.model import array_sha256


def _inspect_digests(path: pathlib.Path) -> dict[tuple[str, str, str], str]:
    result = CliRunner().invoke(cli, ["inspect", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    return {
        (layer["name"], t["part"], t["gate"]): t["sha256"]
        for art in document["artifacts"]
        for layer in art["layers"]
        for t in layer["tensors"]
    }


@pytest.mark.parametrize(("folder", "entry", "model"), file_cases(lambda e, m: m["layers"], FAMILIES))
def test_keras_layout_digests_equal_inspect(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], tmp_path: pathlib.Path
) -> None:
    manifest = do_export(folder / entry["path"], tmp_path / "out", fmt="npz")
    exported = {(a["layer"], a["part"], a["gate"]): a["sha256"] for a in manifest["arrays"]}
    assert exported == _inspect_digests(folder / entry["path"])


def test_manifest_records_source_and_files(tmp_path: pathlib.Path) -> None:
    import hashlib

    source = FIXTURES / "keras3" / "zoo.keras"
    manifest = do_export(source, tmp_path / "out", layout="pytorch", fmt="safetensors", skip_unsupported=True)
    assert manifest["schema"] == "kernelsplit.export-manifest/1"
    assert manifest["source"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest["source"]["kind"] == "file" and manifest["source"]["format"] == "keras-zip"
    on_disk = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert on_disk == sorted([f["path"] for f in manifest["files"]] + ["manifest.json"])
    for f in manifest["files"]:
        data = (tmp_path / "out" / f["path"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f["size"], f["sha256"])
    for record in manifest["arrays"]:
        assert array_sha256(read_array(tmp_path / "out", record, "safetensors")) == record["sha256"]
    assert {r["layer"] for r in manifest["refused"]} == {"gru_ra_false", "lstm_acts"}


def test_export_is_deterministic(tmp_path: pathlib.Path) -> None:
    source = FIXTURES / "tf_keras" / "zoo.h5"
    first = do_export(source, tmp_path / "a", layout="onnx", fmt="npz", skip_unsupported=True)
    second = do_export(source, tmp_path / "b", layout="onnx", fmt="npz", skip_unsupported=True)
    assert first == second
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()
