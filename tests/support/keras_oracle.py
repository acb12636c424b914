"""Keras as the oracle: run recurrent layers in real Keras, in a subprocess, and return their outputs.

``keras_outputs(cases, framework)`` builds each layer with real Keras — ``tf_keras`` for files
written by Keras 1/2 and tf.keras (their ``hard_sigmoid`` is 0.2x+0.5), ``keras`` 3 for Keras 3
files — sets the given weights with ``set_weights`` and returns what the layer computes on the given
input. The subprocess keeps TensorFlow out of the test process (kernelsplit must never import it).

A case: ``{"class_name": "LSTM"|"GRU"|"SimpleRNN", "units", "activation", "recurrent_activation",
"use_bias", "reset_after", "go_backwards", "weights": [kernel, recurrent_kernel(, bias)], "x"}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

_WORKER = r"""
import json, sys, numpy as np
framework, spec_path, data_path, out_path = sys.argv[1:5]
if framework == "tf_keras":
    import tf_keras as K
else:
    import keras as K
specs = json.loads(open(spec_path).read())
data = np.load(data_path)
out = {}
for i, spec in enumerate(specs):
    kwargs = dict(units=spec["units"], activation=spec["activation"], use_bias=spec["use_bias"],
                  go_backwards=spec["go_backwards"], return_sequences=True)
    if spec["class_name"] != "SimpleRNN":
        kwargs["recurrent_activation"] = spec["recurrent_activation"]
    if spec["class_name"] == "GRU":
        kwargs["reset_after"] = spec["reset_after"]
    layer = getattr(K.layers, spec["class_name"])(**kwargs)
    x = data[f"{i}/x"]
    layer.build((None,) + x.shape[1:])
    layer.set_weights([data[f"{i}/w{k}"] for k in range(spec["n_weights"])])
    out[f"{i}"] = np.asarray(layer(x))
np.savez(out_path, **out)
"""


def keras_outputs(cases: list[dict[str, Any]], framework: str) -> list[np.ndarray]:
    """Each case's output (B, T, units), processing order for go_backwards, as Keras computes it."""
    if not cases:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        specs, arrays = [], {}
        for i, case in enumerate(cases):
            specs.append(
                {k: v for k, v in case.items() if k not in ("weights", "x")} | {"n_weights": len(case["weights"])}
            )
            arrays[f"{i}/x"] = np.asarray(case["x"], np.float32)
            for k, weight in enumerate(case["weights"]):
                arrays[f"{i}/w{k}"] = np.asarray(weight, np.float32)
        (folder / "specs.json").write_text(json.dumps(specs))
        np.savez(folder / "data.npz", **arrays)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow"}
        subprocess.run(
            [sys.executable, "-c", _WORKER, framework, folder / "specs.json", folder / "data.npz", folder / "out.npz"],
            check=True,
            env=env,
            capture_output=True,
        )
        with np.load(folder / "out.npz") as data:
            return [data[str(i)] for i in range(len(cases))]
