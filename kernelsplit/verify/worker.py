"""The Keras side of ``kernelsplit verify``: run as ``python worker.py REQUEST OUT`` by ``verify.run_keras``.

It runs in its own process (kernelsplit itself never imports TensorFlow) and imports nothing from
kernelsplit. For each file of the request it loads the model with the Keras the request names
(``keras`` 3 or ``tf_keras``; ``safe_mode`` on unless the user trusts the file's code), walks every
recurrent layer (inside nested models, ``TimeDistributed``, ``Bidirectional``, ``RNN`` with
``StackedRNNCells``), and records what Keras holds and computes: each cell's weights as Keras loaded
them, its maths settings, a seeded random input and the layer's own output on it. CuDNN layers (which
only run on a GPU) are converted by tf-keras's own loader conversion into the LSTM/GRU it runs.

The request (JSON): ``{"framework": "keras3"|"tf_keras", "trust_code": bool, "seed": int,
"files": [path, ...]}``. The answer: ``OUT.json`` (per file: ``loaded``, ``error``, ``versions``,
``layers``) and ``OUT.npz`` (arrays named in ``OUT.json``).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

import numpy as np

RECURRENT = {"LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "RNN", "LSTMV1", "GRUV1"}
CUDNN = {"CuDNNLSTM", "CuDNNGRU"}
STEPS, BATCH = 5, 2


class Recorder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, key: str, array: Any) -> dict[str, Any]:
        """Store an array; bfloat16 (not a numpy type) as its raw 16-bit words."""
        value = np.asarray(array)
        dtype = str(value.dtype)
        if dtype == "bfloat16":
            value = value.view(np.uint16)
        self.arrays[key] = np.ascontiguousarray(value)
        return {"key": key, "dtype": dtype, "shape": list(value.shape)}


def _keras(framework: str) -> Any:
    if framework == "tf_keras":
        import tf_keras as keras
    else:
        import keras

        if not keras.__version__.startswith("3"):
            raise RuntimeError(f"this file needs Keras 3, but the installed keras is {keras.__version__}")
    return keras


def _load(keras: Any, framework: str, path: str, trust_code: bool) -> Any:
    if framework == "keras3":
        if trust_code:
            keras.config.enable_unsafe_deserialization()
        return keras.saving.load_model(path, compile=False, safe_mode=not trust_code)
    return keras.models.load_model(path, compile=False, safe_mode=not trust_code)


def _class(layer: Any) -> str:
    return type(layer).__name__


def _walk(layer: Any, path: str) -> Any:
    """(path, layer) of every recurrent layer or Bidirectional wrapper under ``layer``."""
    name = _class(layer)
    if name == "Bidirectional" or name in RECURRENT or name in CUDNN:
        yield path, layer
    elif name == "TimeDistributed":
        yield from _walk(layer.layer, f"{path}/{layer.layer.name}")
    elif hasattr(layer, "layers"):
        for sub in layer.layers:
            yield from _walk(sub, f"{path}/{sub.name}" if path else sub.name)


def _cells(layer: Any) -> list[Any]:
    cell = getattr(layer, "cell", None)
    if cell is None:
        return [layer]  # CuDNN layers own their weights
    return list(cell.cells) if _class(cell) == "StackedRNNCells" else [cell]


def _act_name(value: Any) -> Any:
    if value is None:
        return None
    name = getattr(value, "__name__", None)
    return name if name is not None else str(value)


def _settings(layer: Any, cell: Any) -> dict[str, Any]:
    config = cell.get_config() if hasattr(cell, "get_config") else {}
    out = {
        "class_name": _class(cell),
        "units": config.get("units", config.get("filters")),
        "activation": _act_name(getattr(cell, "activation", None)),
        "recurrent_activation": _act_name(getattr(cell, "recurrent_activation", None)),
        "reset_after": getattr(cell, "reset_after", None),
        "use_bias": getattr(cell, "use_bias", None),
    }
    for key in ("strides", "padding", "dilation_rate", "data_format", "kernel_size"):
        if key in config:
            value = config[key]
            out[key] = list(value) if isinstance(value, (list, tuple)) else value
    return out


def _cudnn_plain(keras: Any, layer: Any) -> tuple[Any, list[np.ndarray]]:
    """A CuDNN layer as the LSTM/GRU tf-keras's own loader converts it into (which runs on a CPU)."""
    from tf_keras.src.saving.legacy.hdf5_format import _convert_rnn_weights

    raw = layer.get_weights()
    units = layer.units
    common = {"units": units, "return_sequences": layer.return_sequences, "go_backwards": layer.go_backwards}
    if _class(layer) == "CuDNNLSTM":
        plain = keras.layers.LSTM(activation="tanh", recurrent_activation="sigmoid", **common)
    else:
        plain = keras.layers.GRU(activation="tanh", recurrent_activation="sigmoid", reset_after=True, **common)
    plain.build((None, None, raw[0].shape[0]))
    converted = _convert_rnn_weights(plain, raw)
    plain.set_weights(converted)
    halves = np.asarray(raw[2]).reshape(2, -1)  # input side, recurrent side: both as stored
    return plain, [converted[0], converted[1], halves]


def _input_shape(layer: Any, kernel: np.ndarray, conv: bool) -> list[int]:
    """A shape the layer accepts: its built input shape where known, else T=5 and small spatial axes."""
    shape = None
    for attribute in ("input_shape", "batch_input_shape"):
        try:
            candidate = getattr(layer, attribute)
        except Exception:
            continue
        if isinstance(candidate, tuple) and candidate and not isinstance(candidate[0], tuple):
            shape = candidate
            break
    if shape is None:
        try:
            shape = tuple(layer.input.shape)
        except Exception:
            shape = None
    rank = kernel.ndim - 2 if conv else 0
    features = int(kernel.shape[-2])
    if shape is None or len(shape) != 3 + rank:
        shape = (None, None, *([None] * rank), features) if rank else (None, None, features)
    filled = [BATCH if shape[0] is None else int(shape[0]), STEPS if shape[1] is None else int(shape[1])]
    for size in shape[2:]:
        filled.append(8 if size is None else int(size))
    return filled


def _flatten(result: Any) -> list[np.ndarray]:
    items = result if isinstance(result, (list, tuple)) else [result]
    flat: list[np.ndarray] = []
    for item in items:
        if isinstance(item, (list, tuple)):
            flat.extend(np.asarray(x) for x in item)
        else:
            flat.append(np.asarray(item))
    return flat


def _describe_layer(keras: Any, recorder: Recorder, prefix: str, path: str, layer: Any, rng: Any) -> dict[str, Any]:
    import tensorflow as tf

    name = _class(layer)
    record: dict[str, Any] = {"path": path, "class_name": name, "name": layer.name, "cells": []}
    runner = layer
    if name == "Bidirectional":
        record["merge_mode"] = layer.merge_mode
        members = [("forward", layer.forward_layer), ("backward", layer.backward_layer)]
    else:
        members = [("", layer)]
    cudnn_runners = []
    for direction, member in members:
        go_backwards = bool(getattr(member, "go_backwards", False))
        return_sequences = bool(getattr(member, "return_sequences", False))
        record.setdefault("return_sequences", return_sequences)
        record["return_state"] = bool(getattr(member, "return_state", False))
        if _class(member) in CUDNN:
            plain, weights = _cudnn_plain(keras, member)
            cudnn_runners.append(plain)
            cells = [(member, weights, {"class_name": _class(member), "units": member.units, "cudnn": True})]
        else:
            cells = [(cell, cell.get_weights(), _settings(member, cell)) for cell in _cells(member)]
        for index, (cell, weights, settings) in enumerate(cells):
            key = f"{prefix}/{len(record['cells'])}"
            record["cells"].append(
                {
                    "direction": direction or None,
                    "position": index,
                    "name": getattr(cell, "name", None),
                    "go_backwards": go_backwards,
                    "weights": [recorder.put(f"{key}/w{k}", w) for k, w in enumerate(weights)],
                    **settings,
                }
            )
    if cudnn_runners and name == "Bidirectional":  # the same wrapper around the converted LSTM/GRU pair
        ahead, back = cudnn_runners
        runner = keras.layers.Bidirectional(ahead, backward_layer=back, merge_mode=layer.merge_mode)
        runner.build((None, None, int(record_first_kernel(recorder, record).shape[-2])))
        runner.forward_layer.set_weights(ahead.get_weights())
        runner.backward_layer.set_weights(back.get_weights())
    elif cudnn_runners:
        runner = cudnn_runners[0]
    kernel = np.asarray(record_first_kernel(recorder, record))
    conv = kernel.ndim > 2
    shape = _input_shape(layer, kernel, conv)
    x = rng.uniform(-1.0, 1.0, shape).astype(np.float32)
    if hasattr(runner, "reset_states") and getattr(runner, "stateful", False):
        runner.reset_states()
    outputs = _flatten(runner(tf.constant(x)))
    record["input"] = recorder.put(f"{prefix}/x", x)
    record["outputs"] = [recorder.put(f"{prefix}/y{k}", y.astype(np.float64)) for k, y in enumerate(outputs)]
    record["compute_dtype"] = str(getattr(layer, "compute_dtype", getattr(layer, "dtype", "float32")))
    return record


def record_first_kernel(recorder: Recorder, record: dict[str, Any]) -> np.ndarray:
    info = record["cells"][0]["weights"][0]
    return recorder.arrays[info["key"]]


def main(request_path: str, out_base: str) -> None:
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    framework = request["framework"]
    recorder = Recorder()
    answers = []
    try:
        keras = _keras(framework)
        import tensorflow as tf

        versions = {"tensorflow": tf.__version__, framework: keras.__version__}
    except Exception as exc:
        answers = [{"path": p, "loaded": False, "error": f"{type(exc).__name__}: {exc}"} for p in request["files"]]
        keras = None
        versions = {}
    for number, path in enumerate(request["files"] if keras is not None else []):
        answer: dict[str, Any] = {"path": path, "loaded": False, "error": None, "versions": versions, "layers": []}
        try:
            model = _load(keras, framework, path, bool(request.get("trust_code")))
        except Exception as exc:
            answer["error"] = f"{type(exc).__name__}: {exc}".strip()[:2000]
            answers.append(answer)
            continue
        if not isinstance(model, keras.Model):  # tf-keras falls back to tf.saved_model.load for plain SavedModels
            answer["error"] = (
                f"not as a Keras model: it gives a {type(model).__name__} (a SavedModel without Keras "
                "metadata, such as Keras 3's export(), holds no Keras layers)"
            )
            answers.append(answer)
            continue
        answer["loaded"] = True
        rng = np.random.default_rng(int(request["seed"]) + number)
        try:
            for index, (path_in_model, layer) in enumerate(_walk(model, "")):
                answer["layers"].append(
                    _describe_layer(keras, recorder, f"f{number}/l{index}", path_in_model, layer, rng)
                )
        except Exception as exc:
            answer["error"] = f"Keras loaded the file but running its layers failed: {type(exc).__name__}: {exc}"[:2000]
            answer["trace"] = traceback.format_exc()[-4000:]
        answers.append(answer)
    named: dict[str, Any] = dict(recorder.arrays)
    with open(out_base + ".npz", "wb") as handle:
        np.savez(handle, **named)
    with open(out_base + ".json", "w", encoding="utf-8") as handle:
        json.dump({"framework": framework, "files": answers}, handle)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main(sys.argv[1], sys.argv[2])
