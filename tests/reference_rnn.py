"""Numpy-only forward pass of Keras recurrent layers, from per-gate weight blocks (float64).

Weights come in as ``{part: {gate: block}}`` (parts ``kernel``, ``recurrent_kernel``, ``bias`` and,
for GRU reset_after=True, ``recurrent_bias``; gates as in kernelsplit.layouts), never as fused
tensors, so a test built on this checks kernelsplit's split and not just a re-concatenation.
Equations: docs/formats.md, "Cell equations" and "ConvLSTM"; Keras math is ``x @ W``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Params = Mapping[str, Mapping[str, np.ndarray]]
Activation = Callable[[np.ndarray], np.ndarray]

GATES: dict[str, tuple[str, ...]] = {
    "lstm": ("i", "f", "c", "o"),
    "gru": ("z", "r", "h"),
    "simple_rnn": ("h",),
    "conv_lstm": ("i", "f", "c", "o"),
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # overflow-free logistic


def _hard_sigmoid_keras3(x: np.ndarray) -> np.ndarray:
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def _hard_sigmoid_keras2(x: np.ndarray) -> np.ndarray:
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _selu(x: np.ndarray) -> np.ndarray:
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


_ACTIVATIONS: dict[str, Activation] = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "elu": _elu,
    "selu": _selu,
    "exponential": np.exp,
    "swish": lambda x: x * _sigmoid(x),
    "silu": lambda x: x * _sigmoid(x),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
}


def activation(name: str | None, framework: str) -> Activation:
    """The activation ``name`` as the Keras generation ``framework`` defines it.

    ``hard_sigmoid`` changed in Keras 3 (clip(x/6 + 0.5)); Keras 1/2 and tf-keras use
    clip(0.2x + 0.5). ``framework`` is ``keras3`` or anything older (``tf_keras``, ``keras2``...).
    """
    if name is None or name == "linear":
        return _ACTIVATIONS["linear"]
    if name == "hard_sigmoid":
        return _hard_sigmoid_keras3 if framework == "keras3" else _hard_sigmoid_keras2
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"reference_rnn: unsupported activation {name!r}") from None


@dataclass(frozen=True)
class CellSpec:
    """The maths-relevant hyper-parameters of one cell (from a fixture leaf record)."""

    cell: str
    units: int
    activation: str | None = "tanh"
    recurrent_activation: str | None = "sigmoid"
    use_bias: bool = True
    reset_after: bool | None = None
    conv: Mapping[str, Any] | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CellSpec:
        return cls(
            cell=record["cell"],
            units=int(record["units"]),
            activation=record.get("activation"),
            recurrent_activation=record.get("recurrent_activation"),
            use_bias=bool(record.get("use_bias", True)),
            reset_after=record.get("reset_after"),
            conv=record.get("conv"),
        )


# ------------------------------------------------------------------------------------------
# N-d cross-correlation, channels_last: x (B, *S, Cin), w (*K, Cin, Cout)
# ------------------------------------------------------------------------------------------


def _same_pads(size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """TF/Keras "same" padding: total pad split with the extra one on the right."""
    effective = (k - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def conv_nd(x: np.ndarray, w: np.ndarray, strides: Sequence[int], padding: str, dilation: Sequence[int]) -> np.ndarray:
    rank = w.ndim - 2
    kernel = w.shape[:rank]
    if padding == "same":
        pads = [_same_pads(x.shape[1 + i], kernel[i], strides[i], dilation[i]) for i in range(rank)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    elif padding != "valid":
        raise ValueError(f"reference_rnn: unsupported padding {padding!r}")
    sizes = x.shape[1:-1]
    out_sizes = [(sizes[i] - ((kernel[i] - 1) * dilation[i] + 1)) // strides[i] + 1 for i in range(rank)]
    y = np.zeros((x.shape[0], *out_sizes, w.shape[-1]), dtype=np.float64)
    for offset in itertools.product(*(range(k) for k in kernel)):
        window = tuple(
            slice(offset[i] * dilation[i], offset[i] * dilation[i] + (out_sizes[i] - 1) * strides[i] + 1, strides[i])
            for i in range(rank)
        )
        y += x[(slice(None), *window, slice(None))] @ w[offset]
    return y


# ------------------------------------------------------------------------------------------
# Cells
# ------------------------------------------------------------------------------------------


class _Cell:
    """One cell bound to its weights; ``step`` maps (x_t, states) -> (output, states)."""

    def __init__(self, spec: CellSpec, params: Params, framework: str) -> None:
        gates = GATES[spec.cell]
        self.spec = spec
        self.act = activation(spec.activation, framework)
        self.ract = activation(spec.recurrent_activation, framework)
        self.W = {g: np.asarray(params["kernel"][g], np.float64) for g in gates}
        self.U = {g: np.asarray(params["recurrent_kernel"][g], np.float64) for g in gates}
        zeros = {g: 0.0 for g in gates}
        if spec.use_bias:
            self.b = {g: np.asarray(params["bias"][g], np.float64) for g in gates}
            rb = params.get("recurrent_bias")
            self.rb = {g: np.asarray(rb[g], np.float64) for g in gates} if rb else zeros
        else:
            self.b, self.rb = zeros, zeros
        if spec.cell == "gru" and spec.reset_after and spec.use_bias and "recurrent_bias" not in params:
            raise ValueError("GRU reset_after=True needs a recurrent_bias part")

    def x_proj(self, x: np.ndarray, gate: str) -> np.ndarray:
        conv = self.spec.conv
        if conv is None:
            return x @ self.W[gate]
        return conv_nd(x, self.W[gate], conv["strides"], conv["padding"], conv["dilation_rate"])

    def h_proj(self, h: np.ndarray, gate: str) -> np.ndarray:
        if self.spec.conv is None:
            return h @ self.U[gate]
        rank = self.spec.conv["rank"]
        return conv_nd(h, self.U[gate], [1] * rank, "same", [1] * rank)

    def initial_states(self, x_t: np.ndarray) -> list[np.ndarray]:
        if self.spec.conv is None:
            shape: tuple[int, ...] = (x_t.shape[0], self.spec.units)
        else:
            shape = self.x_proj(x_t, GATES[self.spec.cell][0]).shape
        n = 2 if self.spec.cell in ("lstm", "conv_lstm") else 1
        return [np.zeros(shape, np.float64) for _ in range(n)]

    def step(self, x: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        kind = self.spec.cell
        if kind in ("lstm", "conv_lstm"):
            h, c = states
            pre = {
                g: self.x_proj(x, g) + self.h_proj(h, g) + self.b[g] + self.rb[g] for g in "ifco"
            }  # rb: CuDNN recurrent-side bias half (else 0)
            i, f, o = self.ract(pre["i"]), self.ract(pre["f"]), self.ract(pre["o"])
            c = f * c + i * self.act(pre["c"])
            h = o * self.act(c)
            return h, [h, c]
        if kind == "gru":
            (h,) = states
            z = self.ract(x @ self.W["z"] + self.b["z"] + h @ self.U["z"] + self.rb["z"])
            r = self.ract(x @ self.W["r"] + self.b["r"] + h @ self.U["r"] + self.rb["r"])
            if self.spec.reset_after:
                hh = self.act(x @ self.W["h"] + self.b["h"] + r * (h @ self.U["h"] + self.rb["h"]))
            else:
                hh = self.act(x @ self.W["h"] + self.b["h"] + (r * h) @ self.U["h"])
            h = z * h + (1.0 - z) * hh
            return h, [h]
        if kind == "simple_rnn":
            (h,) = states
            h = self.act(x @ self.W["h"] + self.b["h"] + h @ self.U["h"])
            return h, [h]
        raise ValueError(f"reference_rnn: unsupported cell {kind!r}")


def run_rnn(
    x: np.ndarray,
    cells: Sequence[tuple[CellSpec, Params]],
    *,
    framework: str,
    go_backwards: bool = False,
    return_sequences: bool = False,
) -> np.ndarray:
    """Run an RNN layer over ``x`` (B, T, ...); several cells = StackedRNNCells.

    ``go_backwards`` processes t = T-1..0 and returns outputs in processing order, as Keras does.
    ConvLSTM ``channels_first`` inputs are (B, T, C, *S) and outputs keep that layout.
    """
    bound = [_Cell(spec, params, framework) for spec, params in cells]
    channels_first = any(c.spec.conv and c.spec.conv.get("data_format") == "channels_first" for c in bound)
    seq = np.asarray(x, np.float64)
    if channels_first:
        seq = np.moveaxis(seq, 2, -1)
    order = range(seq.shape[1] - 1, -1, -1) if go_backwards else range(seq.shape[1])
    states: list[list[np.ndarray] | None] = [None] * len(bound)
    outputs = []
    for t in order:
        inp = seq[:, t]
        for k, cell in enumerate(bound):
            if states[k] is None:
                states[k] = cell.initial_states(inp)
            inp, states[k] = cell.step(inp, states[k])  # type: ignore[arg-type]
        outputs.append(inp)
    y = np.stack(outputs, axis=1) if return_sequences else outputs[-1]
    if channels_first:
        y = np.moveaxis(y, -1, 2 if return_sequences else 1)
    return y


def run_record(record: Mapping[str, Any], x: np.ndarray, params: Sequence[Params], framework: str) -> np.ndarray:
    """Run a fixture leaf record: ``params`` has one entry per cell (one unless ``cells``)."""
    specs = [CellSpec.from_record(c) for c in (record.get("cells") or [record])]
    if len(specs) != len(params):
        raise ValueError(f"{record.get('key')}: {len(specs)} cells but {len(params)} param sets")
    return run_rnn(
        x,
        list(zip(specs, params, strict=True)),
        framework=framework,
        go_backwards=bool(record["go_backwards"]),
        return_sequences=bool(record["return_sequences"]),
    )
