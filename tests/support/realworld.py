"""The real-world corpus (``../shared/realworld``) as the Keras oracle sees it: which files, which
Keras runs each layer, and the Keras layer case (tests/support/keras_oracle.py) of a kernelsplit layer."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from kernelsplit.maths import Generation
from kernelsplit.model import RecurrentLayer

from .paths import REALWORLD

CLASSES = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}


def files() -> list[str]:
    """Every corpus file (its ``local_file``), in the order of the expected/ folder."""
    if not REALWORLD.is_dir():
        return []
    expected = sorted((REALWORLD / "expected").glob("*.json"))
    return [json.loads(p.read_text())["local_file"] for p in expected]


def keras_weights(layer: RecurrentLayer) -> list[np.ndarray]:
    """The weights a plain Keras layer takes: CuDNN's two LSTM bias halves summed, as Keras converts."""
    weights = [layer.fused("kernel"), layer.fused("recurrent_kernel")]
    if "bias" in layer.parts:
        bias = layer.fused("bias")
        if "recurrent_bias" in layer.parts:
            recurrent = layer.fused("recurrent_bias")
            bias = np.stack([bias, recurrent]) if layer.cell == "gru" else bias + recurrent
        weights.append(bias)
    return weights


def framework(layer: RecurrentLayer) -> str:
    """The Keras that computes what the layer's writer computed: Keras 3 for Keras 3 files, else tf-keras
    (for a writer the file does not name, the layer's activations must mean the same in both)."""
    writer = layer.maths.writer
    return "keras3" if writer is not None and writer.generation == Generation.KERAS3 else "tf_keras"


def keras_case(layer: RecurrentLayer, x: np.ndarray) -> dict[str, Any]:
    """The Keras layer computing what ``layer``'s maths say, with its weights, on ``x``."""
    maths = layer.maths
    case: dict[str, Any] = {
        "class_name": CLASSES.get(layer.cell, "ConvLSTM"),
        "units": layer.units,
        "activation": maths.activation.value,
        "recurrent_activation": maths.recurrent_activation.value,
        "use_bias": bool(maths.use_bias.value),
        "reset_after": bool(maths.reset_after.value),
        "go_backwards": bool(maths.go_backwards.value),
        "weights": keras_weights(layer),
        "x": x,
    }
    convolution = maths.convolution.value
    if layer.cell == "conv_lstm":
        assert convolution is not None
        case["class_name"] = f"ConvLSTM{convolution.rank}D"
        case["conv"] = {
            "kernel_size": list(convolution.kernel_size),
            "strides": list(convolution.strides),
            "padding": convolution.padding,
            "dilation_rate": list(convolution.dilation_rate),
            "data_format": convolution.data_format,
        }
    return case


def random_input(layer: RecurrentLayer, rng: np.random.Generator, batch: int = 2, steps: int = 7) -> np.ndarray:
    """A seeded input the layer accepts: (B, T, features), or for a ConvLSTM (B, T, *spatial, C)
    with spatial axes wide enough for its kernel, strides and dilation (channels first if so stored)."""
    features = layer.input_dim or 1
    convolution = layer.maths.convolution.value
    if layer.cell != "conv_lstm" or convolution is None:
        return rng.uniform(-2, 2, (batch, steps, features)).astype(np.float32)
    spatial = [
        max(6, (k - 1) * d + 1 + 2 * s)
        for k, d, s in zip(convolution.kernel_size, convolution.dilation_rate, convolution.strides, strict=True)
    ]
    shape = (
        [batch, steps, features, *spatial]
        if convolution.data_format == "channels_first"
        else [batch, steps, *spatial, features]
    )
    return rng.uniform(-1, 1, shape).astype(np.float32)
