"""Every recurrent layer of the public models in ../shared/realworld, exported to PyTorch and ONNX,
computes what Keras computes for that layer — or is refused with a reason, never exported on an
assumption nobody chose.

The oracle is real Keras (tests/support/keras_oracle.py): the layer built with its class, units and
the activations its file's config names, as the generation that wrote the file defines them
(tf-keras for Keras 1/2 and tf.keras files, Keras 3 for Keras 3 files), with the weights kernelsplit
reads (test_realworld.py proves them digest-equal to what Keras's own loader holds). The exports run
in torch.nn and in onnxruntime on the same seeded input (ONNX nodes with default activations in the
ONNX reference evaluator too, which must agree).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from support.exporting import group_arrays, group_of
from support.keras_oracle import keras_outputs
from support.paths import REALWORLD, needs_shared
from support.realworld import files as _files
from support.realworld import keras_case as _case
from support.runtimes import build_torch_module, has_default_activations, run_onnx_node

import kernelsplit
from kernelsplit.export import export_artifact
from kernelsplit.model import Artifact, RecurrentLayer

pytestmark = needs_shared
torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

LAYOUTS = ("pytorch", "onnx")
ATOL = 1e-5


def _framework(artifact: Artifact) -> str:
    return "keras3" if (artifact.keras_version or "").startswith("3") else "tf_keras"


def _export_output(layout: str, done: Any, layer: RecurrentLayer, x: np.ndarray) -> np.ndarray:
    """The exported layer run in its framework: (B, T, units) in Keras's processing order."""
    group = group_of(done.manifest, layer.name)
    arrays = group_arrays(done.output, done.manifest, group["name"], "npz")
    position = [lay["name"] for lay in group["layers"]].index(layer.name)
    pair = len(group["layers"]) == 2
    if layout == "pytorch":
        module = build_torch_module(group["target"], arrays)
        backwards = not pair and bool(layer.maths.go_backwards.value)
        with torch.no_grad():
            seq = module(torch.from_numpy((x[:, ::-1] if backwards else x).astype(np.float64).copy()))[0].numpy()
        if pair:
            seq = seq[..., position * layer.units : (position + 1) * layer.units]
            return seq[:, ::-1] if position == 1 else seq
        return seq
    y, _ = run_onnx_node(group["target"], arrays, x)
    if has_default_activations(group["target"]):  # the reference evaluator agrees where it can judge
        reference, _ = run_onnx_node(group["target"], arrays, x, runtime="reference")
        assert float(np.max(np.abs(reference - y))) <= 1e-5, f"{layer.name}: onnxruntime and the reference disagree"
    seq = y[:, position].transpose(1, 0, 2)  # input time order
    reverse = (pair and position == 1) or group["target"]["attributes"]["direction"] == "reverse"
    return seq[:, ::-1] if reverse else seq


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], tuple[str, Any]]:
    """(file, layout, layer) -> ("refused", reason) | ("error", max |export - keras|), for every layer."""
    rng = np.random.default_rng(20261201)
    out: dict[tuple[str, str, str], tuple[str, Any]] = {}
    pending: dict[str, list[tuple[tuple[str, str, str], dict[str, Any], np.ndarray]]] = {"tf_keras": [], "keras3": []}
    for local in _files():
        artifact = kernelsplit.open(REALWORLD / "files" / local)
        inputs = {
            layer.name: rng.uniform(-2, 2, (2, 7, layer.input_dim or 1)).astype(np.float32) for layer in artifact.layers
        }
        for layout in LAYOUTS:
            folder = tmp_path_factory.mktemp(layout) / "out"
            try:
                done = export_artifact(artifact, out=folder, layout=layout, fmt="npz", skip_unsupported=True)
                refused = {r.layer: r.reason for r in done.refused}
            except kernelsplit.KernelsplitError as exc:
                done, refused = None, {layer.name: exc.message for layer in artifact.layers}
            for layer in artifact.layers:
                key = (local, layout, layer.name)
                if layer.name in refused:
                    out[key] = ("refused", refused[layer.name])
                    continue
                x = inputs[layer.name]
                pending[_framework(artifact)].append((key, _case(layer, x), _export_output(layout, done, layer, x)))
    for framework, items in pending.items():
        for (key, _, got), want in zip(items, keras_outputs([case for _, case, _ in items], framework), strict=True):
            out[key] = ("error", float(np.max(np.abs(got - want))))
    return out


@pytest.mark.parametrize("local", _files())
@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layer_reproduces_keras_or_is_refused_with_a_reason(
    local: str, layout: str, results: dict[tuple[str, str, str], tuple[str, Any]]
) -> None:
    mine = {key[2]: value for key, value in results.items() if key[:2] == (local, layout)}
    assert mine, "the file has recurrent layers"
    for layer, (status, value) in mine.items():
        if status == "refused":
            assert isinstance(value, str) and len(value) > 20, (layer, value)
        else:
            assert value <= ATOL, f"{layer}: max |{layout} - keras| = {value:.3g}"


def test_weights_only_files_are_never_exported_on_an_unchosen_assumption(
    results: dict[tuple[str, str, str], tuple[str, Any]],
) -> None:
    for local in _files():
        artifact = kernelsplit.open(REALWORLD / "files" / local)
        for layer in artifact.layers:
            if not layer.maths.activation.known:
                for layout in LAYOUTS:
                    status, reason = results[(local, layout, layer.name)]
                    assert status == "refused" and "--assume-activations" in reason, (local, layer.name)


def test_summary_of_what_each_layout_takes(results: dict[tuple[str, str, str], tuple[str, Any]]) -> None:
    """The figures of the closing note: layers exported / refused per layout, and the worst error."""
    for layout in LAYOUTS:
        mine = [value for key, value in results.items() if key[1] == layout]
        exported = [v for s, v in mine if s == "error"]
        assert exported, f"{layout} exports at least one real-world layer"
        print(f"{layout}: {len(exported)} exported (worst {max(exported):.2g}), {len(mine) - len(exported)} refused")
