"""The README's "Port to PyTorch" and "Port to ONNX" scripts, extracted and run as written on a
fixture, reproduce Keras's own outputs for every layer they export.

Each script's only edit is its first assignment (``MODEL, OUT = ...``), pointed at the fixture and a
temporary folder. ``tf_keras/zoo.h5`` holds return_sequences True and False, go_backwards, a
Bidirectional, RNN(cell), StackedRNNCells, GRU reset_after True and False, nested models.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.fixtures import load_json, oracle
from support.paths import FIXTURES, REPO

FIXTURE = FIXTURES / "tf_keras" / "zoo.h5"
MANIFEST = load_json(FIXTURES / "tf_keras" / "manifest.json")
RECORDS = {record["key"]: record for record in MANIFEST["models"]["zoo"]["layers"]}
ORACLE = str(FIXTURES / "tf_keras" / "zoo.npz")


def readme_script(name: str) -> str:
    """The README's python block whose first line is ``# <name>``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    found = [block for block in blocks if block.startswith(f"# {name}\n")]
    assert len(found) == 1, f"README.md has {len(found)} python blocks starting with '# {name}'"
    return found[0]


def run_script(name: str, out: Path) -> dict[str, Any]:
    code = readme_script(name)
    assignment = re.search(r'^MODEL, OUT = "model.keras", "(model-[a-z]+)"$', code, re.M)
    assert assignment, "the script starts from MODEL, OUT"
    code = code.replace(assignment.group(0), f"MODEL, OUT = {str(FIXTURE)!r}, {str(out)!r}")
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(code, f"README.md:{name}", "exec"), namespace)
    return namespace


def expected_outputs() -> list[tuple[list[str], np.ndarray, np.ndarray]]:
    """(the groups to run in a row, Keras's input, Keras's output) for every layer of the fixture.

    A Bidirectional's two records are one layer: Keras concatenates the forward output and the
    backward one, whose record is in processing order, put back in input order."""
    keras = oracle(ORACLE)
    cases = []
    for key, record in RECORDS.items():
        x, y = keras[f"{key}/input"], keras[f"{key}/output"]
        if record["direction"] == "backward":
            continue
        if record["direction"] == "forward":
            wrapper = key.rsplit("/", 1)[0]
            back = keras[f"{wrapper}/backward/output"]
            y = np.concatenate([y, back[:, ::-1] if record["return_sequences"] else back], axis=-1)
            cases.append(([wrapper], x, y))
        elif record.get("cells"):
            cases.append(([f"{key}/{cell['keras_name']}" for cell in record["cells"]], x, y))
        else:
            cases.append(([key], x, y))
    return cases


def check(keras_output: Any, groups: dict[str, Any], convert: Any) -> int:
    compared = 0
    for names, x, want in expected_outputs():
        if not all(name in groups for name in names):
            continue  # refused by this layout (the manifest says why)
        got = x.astype(np.float32)
        for name in names:
            got = convert(keras_output(name, convert(got, to_framework=True)), to_framework=False)
        assert got.shape == want.shape, names
        assert float(np.max(np.abs(got - want))) <= 1e-5, names
        compared += 1
    return compared


def test_port_to_pytorch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    namespace = run_script("port_to_pytorch.py", tmp_path / "pt")
    groups = {g["name"]: g for g in namespace["manifest"]["groups"]}

    def convert(array: Any, to_framework: bool) -> Any:
        return torch.from_numpy(np.ascontiguousarray(array)) if to_framework else array.numpy()

    assert check(namespace["keras_output"], groups, convert) == 11  # 13 layers, 2 refused
    refused = {r["layer"] for r in namespace["manifest"]["refused"]}
    assert refused == {"gru_ra_false", "lstm_acts"}


def test_port_to_onnx(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    namespace = run_script("port_to_onnx.py", tmp_path / "onnx")
    groups = {g["name"]: g for g in namespace["manifest"]["groups"]}
    assert check(namespace["keras_output"], groups, lambda a, to_framework: np.ascontiguousarray(a)) == 13
    assert namespace["manifest"]["refused"] == []


def test_the_scripts_are_what_the_readme_shows() -> None:
    for name in ("port_to_pytorch.py", "port_to_onnx.py"):
        code = readme_script(name)
        compile(code, name, "exec")
        assert "keras_output" in code and "export(MODEL" in code
