"""Keras as the oracle: run recurrent layers in real Keras, in a subprocess, and return their outputs.

``keras_results(cases, framework)`` builds each layer with real Keras — ``tf_keras`` for files
written by Keras 1/2 and tf.keras (their ``hard_sigmoid`` is 0.2x+0.5), ``keras`` 3 for Keras 3
files — sets the given weights with ``set_weights`` and returns what the layer returns on the given
input (``return_state=True``: the output(s), then the final states). The subprocess keeps TensorFlow
out of the test process (kernelsplit must never import it).

A case: ``{"class_name": "LSTM"|"GRU"|"SimpleRNN"|"ConvLSTM1D"|"ConvLSTM2D"|"ConvLSTM3D", "units",
"activation", "recurrent_activation", "use_bias", "reset_after", "go_backwards", "weights":
[kernel, recurrent_kernel(, bias)], "x"}`` and optionally ``"return_sequences"`` (default True),
``"initial_state"`` (list of arrays), ``"conv": {"kernel_size", "strides", "padding",
"dilation_rate", "data_format"}`` and ``"merge_mode"`` (the layer wrapped in a ``Bidirectional``;
``weights`` then holds the forward weights followed by the backward ones).
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
import tensorflow as tf
framework, spec_path, data_path, out_path = sys.argv[1:5]
if framework == "tf_keras":
    import tf_keras as K
else:
    import keras as K
specs = json.loads(open(spec_path).read())
data = np.load(data_path)
out = {}
errors = {}


def run_case(i, spec):
    name = spec["class_name"]
    kwargs = dict(activation=spec["activation"], use_bias=spec["use_bias"], go_backwards=spec["go_backwards"],
                  return_sequences=spec.get("return_sequences", True), return_state=True)
    if name.startswith("ConvLSTM"):
        kwargs.update(filters=spec["units"], **spec["conv"])
    else:
        kwargs["units"] = spec["units"]
    if name != "SimpleRNN":
        kwargs["recurrent_activation"] = spec["recurrent_activation"]
    if name == "GRU":
        kwargs["reset_after"] = spec["reset_after"]
    layer = getattr(K.layers, name)(**kwargs)
    if "merge_mode" in spec:
        layer = K.layers.Bidirectional(layer, merge_mode=spec["merge_mode"])
    x = data[f"{i}/x"]
    layer.build((None,) + x.shape[1:])
    layer.set_weights([data[f"{i}/w{k}"] for k in range(spec["n_weights"])])
    initial = [tf.constant(data[f"{i}/s{k}"]) for k in range(spec["n_states"])] or None
    results = layer(tf.constant(x), initial_state=initial) if initial else layer(tf.constant(x))
    flat = []
    for item in results:
        flat.extend(item if isinstance(item, (list, tuple)) else [item])
    for k, item in enumerate(flat):
        out[f"{i}/{k}"] = np.asarray(item)
    out[f"{i}/n"] = np.asarray(len(flat))


for i, spec in enumerate(specs):
    try:
        run_case(i, spec)
    except Exception as exc:
        if not spec.get("errors_allowed"):
            raise
        errors[str(i)] = f"{type(exc).__name__}: {exc}"
out["__errors__"] = np.asarray(json.dumps(errors))
np.savez(out_path, **out)
"""


def keras_results(cases: list[dict[str, Any]], framework: str) -> list[list[np.ndarray]]:
    """Each case's results as Keras returns them with ``return_state=True``: output(s), then states.

    A case with ``"errors_allowed": True`` whose layer Keras cannot build or run (an activation
    name this Keras does not offer) gives ``[]``, and the case gets the reason as ``keras_error``.
    """
    if not cases:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        specs, arrays = [], {}
        for i, case in enumerate(cases):
            states = case.get("initial_state") or []
            specs.append(
                {k: v for k, v in case.items() if k not in ("weights", "x", "initial_state", "keras_error")}
                | {"n_weights": len(case["weights"]), "n_states": len(states)}
            )
            arrays[f"{i}/x"] = np.asarray(case["x"], np.float32)
            for k, weight in enumerate(case["weights"]):
                arrays[f"{i}/w{k}"] = np.asarray(weight, np.float32)
            for k, state in enumerate(states):
                arrays[f"{i}/s{k}"] = np.asarray(state, np.float32)
        (folder / "specs.json").write_text(json.dumps(specs))
        np.savez(folder / "data.npz", **arrays)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow"}
        done = subprocess.run(
            [sys.executable, "-c", _WORKER, framework, folder / "specs.json", folder / "data.npz", folder / "out.npz"],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise AssertionError(f"the Keras oracle failed:\n{done.stderr[-3000:]}")
        with np.load(folder / "out.npz") as data:
            errors = json.loads(str(data["__errors__"]))
            for i, case in enumerate(cases):
                case["keras_error"] = errors.get(str(i))
            return [
                [data[f"{i}/{k}"] for k in range(int(data[f"{i}/n"]))] if f"{i}/n" in data else []
                for i in range(len(cases))
            ]


def keras_outputs(cases: list[dict[str, Any]], framework: str) -> list[np.ndarray]:
    """Each case's output (B, T, units), processing order for go_backwards, as Keras computes it."""
    return [results[0] for results in keras_results(cases, framework)]
