"""Layers real Keras writes that kernelsplit once got silently wrong, proved against Keras itself.

* A recurrent layer of a class kernelsplit does not know (``class MyLSTM(LSTM)``, saved by Keras 3
  and by tf-keras) was dropped with exit 0. It is now found by its shapes and reported
  ``inferred`` with unknown maths, its blocks the bytes Keras loads (docs/formats.md, "Classes
  kernelsplit does not know").
* tf.keras's ``time_major=True`` layers take (time, batch, features). The forward pass, the
  PyTorch export and diff ignored it. Now the forward pass reproduces Keras's outputs, the export
  says ``batch_first=False``, and diff tells the two layouts apart.

The files are saved by real Keras in a subprocess (TensorFlow never enters the test process).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import kernelsplit
from kernelsplit.cli import cli
from kernelsplit.export import export_artifact
from kernelsplit.forward import bidirectional

pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("tensorflow", "tf_keras", "keras")),
    reason="needs TensorFlow, tf-keras and Keras 3 (the test extra) to save the files",
)

_SAVE = textwrap.dedent("""
    import os, sys, json
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    out = sys.argv[1]
    rng = np.random.default_rng(0)

    def weights_of(layer):
        return [np.asarray(w) for w in layer.get_weights()]

    import keras

    @keras.saving.register_keras_serializable(package="mine")
    class MyLSTM(keras.layers.LSTM):
        pass

    k3 = keras.Sequential([keras.Input((5, 3)), MyLSTM(4, return_sequences=True, name="mine"),
                           keras.layers.LSTM(2, name="std")])
    k3.save(f"{out}/k3_custom.keras")
    np.savez(f"{out}/k3_custom.npz", *weights_of(k3.get_layer("mine")))

    import tf_keras as tfk

    class TfMyLSTM(tfk.layers.LSTM):
        pass

    old = tfk.Sequential([tfk.Input((5, 3)), TfMyLSTM(4, return_sequences=True, name="mine"),
                          tfk.layers.LSTM(2, name="std")])
    old.save(f"{out}/tfk_custom.h5")
    np.savez(f"{out}/tfk_custom.npz", *weights_of(old.get_layer("mine")))

    # time_major: (time, batch, features) in and out; the same weights in a batch-major twin.
    x = rng.standard_normal((6, 2, 3)).astype("float32")  # (time, batch, features)
    outputs = {"x": x}
    for major in (True, False):
        inputs = tfk.Input((2, 3) if major else (6, 3), batch_size=None if not major else 6)
        layers = {
            "lstm": tfk.layers.LSTM(4, time_major=major, return_sequences=True, name="lstm"),
            "gru": tfk.layers.GRU(3, time_major=major, return_sequences=False, name="gru"),
            "bidi": tfk.layers.Bidirectional(
                tfk.layers.LSTM(2, time_major=major, return_sequences=True, go_backwards=False), name="bidi"),
        }
        model = tfk.Model(inputs, [layer(inputs) for layer in layers.values()])
        if major:
            trained = model
        else:
            model.set_weights(trained.get_weights())
        model.save(f"{out}/time_major_{str(major).lower()}.h5")
        feed = x if major else np.swapaxes(x, 0, 1)
        for name, value in zip(layers, model(feed)):
            outputs[f"{major}/{name}"] = np.asarray(value)
    np.savez(f"{out}/time_major_outputs.npz", **outputs)
""")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unusual")
    run = subprocess.run([sys.executable, "-c", _SAVE, str(folder)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return folder


def _sha(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).astype("<f4").tobytes()).hexdigest()


@pytest.mark.parametrize("name", ["k3_custom.keras", "tfk_custom.h5"])
def test_a_layer_of_an_unknown_class_is_found_with_the_bytes_keras_loads(saved: Path, name: str) -> None:
    result = CliRunner().invoke(cli, ["inspect", "--output-format", "json", str(saved / name)])
    assert result.exit_code == 0, result.output
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["artifacts"][0]["layers"]}
    assert set(layers) == {"mine", "std"}  # before: only "std", exit 0
    mine = layers["mine"]
    assert mine["inferred"] and mine["class_name"] == "inferred:LSTM" and mine["units"] == 4
    assert any("MyLSTM (mine) is a layer class kernelsplit does not know" in note for note in mine["notes"])
    assert mine["maths"]["activation"]["value"] is None  # unknown: nothing assumed

    keras_weights = np.load(saved / name.replace(".keras", ".npz").replace(".h5", ".npz"))
    kernel, recurrent, bias = (keras_weights[f"arr_{k}"] for k in range(3))
    layer = next(layer for layer in kernelsplit.open(saved / name).layers if layer.name == "mine")
    for part, stored in (("kernel", kernel), ("recurrent_kernel", recurrent), ("bias", bias)):
        for index, gate in enumerate("ifco"):
            want = stored[..., index * 4 : (index + 1) * 4]
            assert layer.tensor(part, gate).sha256 == _sha(want), (part, gate)

    refused = CliRunner().invoke(cli, ["export", str(saved / name), "--layout", "pytorch", "-o", str(saved / "out")])
    assert refused.exit_code == 2 and "--assume-activations" in refused.output


def _outputs(saved: Path) -> Any:
    return np.load(saved / "time_major_outputs.npz")


@pytest.mark.parametrize("major", [True, False])
def test_the_forward_pass_follows_time_major_as_keras_does(saved: Path, major: bool) -> None:
    outputs = _outputs(saved)
    x = outputs["x"] if major else np.swapaxes(outputs["x"], 0, 1)
    artifact = kernelsplit.open(saved / f"time_major_{str(major).lower()}.h5")
    layers = {layer.name: layer for layer in artifact.layers}
    for name in ("lstm", "gru"):
        got = layers[name].forward(x).output
        np.testing.assert_allclose(got, outputs[f"{major}/{name}"], atol=2e-6, err_msg=name)
    pair = artifact.pair(layers["bidi/forward"])
    assert pair is not None
    got = bidirectional(*pair, x).output
    np.testing.assert_allclose(got, outputs[f"{major}/bidi"], atol=2e-6)


def test_the_pytorch_export_of_a_time_major_layer_runs_time_major(saved: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from support.exporting import group_arrays
    from support.runtimes import build_torch_module

    artifact = kernelsplit.open(saved / "time_major_true.h5")
    export_artifact(artifact, out=tmp_path, layout="pytorch", fmt="npz")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    group = next(g for g in manifest["groups"] if g["name"] == "lstm")
    assert group["target"]["kwargs"]["batch_first"] is False
    module = build_torch_module(group["target"], group_arrays(tmp_path, manifest, "lstm", "npz"))
    with torch.no_grad():
        sequence = module(torch.from_numpy(_outputs(saved)["x"].astype(np.float64)))[0].numpy()
    np.testing.assert_allclose(sequence, _outputs(saved)["True/lstm"], atol=2e-6)


def test_diff_tells_time_major_from_batch_major(saved: Path) -> None:
    result = CliRunner().invoke(
        cli, ["diff", str(saved / "time_major_false.h5"), str(saved / "time_major_true.h5"), "--output-format", "json"]
    )
    report = json.loads(result.stdout)
    assert report["verdict"] not in ("identical", "equivalent"), report["verdict"]
    assert "time_major" in result.stdout
