"""The committed fixtures (``fixtures/*/manifest.json``): cases, cached opens, Keras's oracles.

A manifest lists files, the model each holds and one *leaf record* per recurrent cell with
``kernel_sha256`` (the fused kernel Keras holds after loading); ``find_layer`` finds kernelsplit's
layer by that digest, so tests never rely on names (fixtures/README.md).
"""

from __future__ import annotations

import functools
import json
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import kernelsplit
from kernelsplit.model import Artifact, RecurrentLayer, array_sha256

from .paths import FIXTURES

#: atol against Keras. float16/bfloat16 models compute in low precision inside Keras while the
#: reference computes in float64 from the same stored weights; measured max errors 7e-4 (float16)
#: and 4.3e-3 (bfloat16) on the fixtures, so these bounds keep a margin of ~7x.
ATOL = {"float32": 1e-5, "float16": 5e-3, "bfloat16": 3e-2}

Params = dict[str, dict[str, np.ndarray]]
Predicate = Callable[[dict[str, Any], dict[str, Any]], Any]


def load_json(path: pathlib.Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def manifests(families: tuple[str, ...] | None = None) -> list[pathlib.Path]:
    paths = sorted(FIXTURES.glob("*/manifest.json"))
    return [p for p in paths if families is None or p.parent.name in families]


def file_cases(predicate: Predicate | None = None, families: tuple[str, ...] | None = None) -> list[Any]:
    """``pytest.param(folder, entry, model)`` per fixture file whose (entry, model) pass ``predicate``."""
    cases = []
    for manifest_path in manifests(families):
        manifest = load_json(manifest_path)
        for entry in manifest["files"]:
            model = manifest["models"][entry["model"]]
            if predicate is None or predicate(entry, model):
                folder = manifest_path.parent
                cases.append(pytest.param(folder, entry, model, id=f"{folder.name}/{entry['path']}"))
    return cases


def record_cases(
    predicate: Callable[[dict[str, Any]], Any] | None = None, families: tuple[str, ...] | None = None
) -> list[Any]:
    """``pytest.param(folder, entry, model, record)`` per leaf record passing ``predicate``."""
    cases = []
    for param in file_cases(families=families):
        folder, entry, model = param.values
        for record in model["layers"]:
            if predicate is None or predicate(record):
                cases.append(pytest.param(folder, entry, model, record, id=f"{param.id}::{record['key']}"))
    return cases


@functools.cache
def open_cached(path: str) -> Artifact:
    return kernelsplit.open(path)


@functools.cache
def oracle(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def stored_kernel_digest(layer: RecurrentLayer) -> str:
    """Digest of the kernel blocks concatenated again, over the stored bytes (bfloat16 words)."""
    blocks = [layer.tensor("kernel", gate).stored_bytes_array for gate in layer.gates]
    return array_sha256(np.concatenate(blocks, axis=-1))


def find_layer(art: Artifact, digest: str, what: str) -> RecurrentLayer:
    found = [layer for layer in art.layers if stored_kernel_digest(layer) == digest]
    if len(found) != 1:
        names = [f"{lay.name}({lay.cell},{lay.units})" for lay in art.layers]
        pytest.fail(
            f"{what}: {len(found)} kernelsplit layers have kernel_sha256 {digest[:12]}...; layers found: {names}"
        )
    return found[0]


def params_of(layer: RecurrentLayer) -> Params:
    """``{part: {gate: block}}`` as the reference forward pass takes them."""
    params: Params = {}
    for tensor in layer.tensors:
        params.setdefault(tensor.part, {})[tensor.gate] = np.asarray(tensor.array)
    return params


def cells_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A record's cells: itself, or the cells of a StackedRNNCells record."""
    cells: list[dict[str, Any]] = record.get("cells") or [record]
    return cells
