"""Gate layouts as data: one table row per cell kind.

Every fused Keras tensor of a recurrent cell stacks its gate blocks on the **last axis**, each block
``units`` wide, in the order given here (Keras 2/3, tf.keras; Keras 1 and CuDNN files are converted
to this order by ``analysis/split.py``). Nothing else in kernelsplit hard-codes a gate order.
The facts behind each row are in docs/formats.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TargetLayout:
    """How another framework stacks the same gates (docs/formats.md, "Other frameworks"; the export
    tests prove each by running it)."""

    #: Keras gate letters in the target's block order.
    gate_order: tuple[str, ...]
    #: The target's module or operator.
    op: str


@dataclass(frozen=True)
class CellLayout:
    kind: str
    gates: tuple[str, ...]
    gate_names: dict[str, str]
    #: Keras classes (layer or cell) whose weights follow this layout; the first names the kind.
    classes: tuple[str, ...]
    #: Keras 0.x/1.x per-gate storage: the order of the (W, U, b) triples; None if never stored so.
    keras1_storage_order: tuple[str, ...] | None = None
    #: Export targets that can run this cell, by layout name.
    targets: dict[str, TargetLayout] = field(default_factory=dict)

    @property
    def n_gates(self) -> int:
        return len(self.gates)


PARTS: tuple[str, ...] = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")

CELL_LAYOUTS: dict[str, CellLayout] = {
    layout.kind: layout
    for layout in (
        CellLayout(
            kind="lstm",
            gates=("i", "f", "c", "o"),
            gate_names={"i": "input", "f": "forget", "c": "cell candidate", "o": "output"},
            classes=("LSTM", "LSTMCell", "CuDNNLSTM", "LSTMV1", "PeepholeLSTMCell"),
            keras1_storage_order=("i", "c", "f", "o"),
            targets={
                "pytorch": TargetLayout(("i", "f", "c", "o"), "torch.nn.LSTM"),
                "onnx": TargetLayout(("i", "o", "f", "c"), "LSTM"),
            },
        ),
        CellLayout(
            kind="gru",
            gates=("z", "r", "h"),
            gate_names={"z": "update", "r": "reset", "h": "candidate"},
            classes=("GRU", "GRUCell", "CuDNNGRU", "GRUV1"),
            keras1_storage_order=("z", "r", "h"),
            targets={
                "pytorch": TargetLayout(("r", "z", "h"), "torch.nn.GRU"),
                "onnx": TargetLayout(("z", "r", "h"), "GRU"),
            },
        ),
        CellLayout(
            kind="simple_rnn",
            gates=("h",),
            gate_names={"h": "hidden"},
            classes=("SimpleRNN", "SimpleRNNCell"),
            targets={"pytorch": TargetLayout(("h",), "torch.nn.RNN"), "onnx": TargetLayout(("h",), "RNN")},
        ),
        CellLayout(
            kind="conv_lstm",
            gates=("i", "f", "c", "o"),
            gate_names={"i": "input", "f": "forget", "c": "cell candidate", "o": "output"},
            classes=(
                "ConvLSTM1D",
                "ConvLSTM2D",
                "ConvLSTM3D",
                "ConvLSTM1DCell",
                "ConvLSTM2DCell",
                "ConvLSTM3DCell",
                "ConvLSTMCell",
            ),
            keras1_storage_order=("i", "c", "f", "o"),
        ),
    )
}

#: Keras class name -> cell kind, derived from the table above.
CLASS_TO_KIND: dict[str, str] = {cls: lay.kind for lay in CELL_LAYOUTS.values() for cls in lay.classes}

#: Gate count -> cell kind when only shapes are known (2-D kernels; ConvLSTM has >2-D kernels).
GATE_COUNT_TO_KIND: dict[int, str] = {4: "lstm", 3: "gru", 1: "simple_rnn"}

#: Keras classes whose weights are stored in cuDNN's layout (docs/formats.md, "CuDNN layers").
CUDNN_CLASSES = frozenset({"CuDNNLSTM", "CuDNNGRU"})

#: A Keras 0.x/1.x per-gate weight name: ``lstm_1_W_i``, ``gru_2_U_z:0``... (role letter, gate letter).
KERAS1_WEIGHT_NAME = re.compile(r"(?:^|[_/])([WUb])_([icfozrh])(?::\d+)?$")

#: Keras 1 ConvLSTM2D ``dim_ordering='th'`` W/U gate arrays (filters, stack, rows, cols) -> Keras 2's
#: (rows, cols, stack, filters). tf-keras applies the same permutation, but after concatenating the
#: gates, which breaks on th shapes (docs/formats.md, "Keras 1.x").
KERAS1_TH_TO_TF: tuple[int, ...] = (2, 3, 1, 0)

#: How a stored block becomes the canonical Keras block, per (storage, part), for storages that are
#: not plain slices (docs/formats.md, "CuDNN layers" and "Keras 1.x"); ``analysis/split.py`` applies them.
CONVERSIONS: dict[tuple[str, str], str] = {
    ("cudnn", "kernel"): "cuDNN layout: the slice holds a row-major (units, input) matrix; Keras reads it "
    "as reshape(units, input) and transposes it",
    ("cudnn", "recurrent_kernel"): "cuDNN layout: the slice transposed",
    ("cudnn", "bias"): "the input-side half of cuDNN's bias",
    ("cudnn", "recurrent_bias"): "the recurrent-side half of cuDNN's bias",
    ("keras1", "kernel"): "a whole Keras 1 per-gate array",
    ("keras1", "recurrent_kernel"): "a whole Keras 1 per-gate array",
    ("keras1", "bias"): "a whole Keras 1 per-gate array",
    ("keras1-th", "kernel"): "a whole Keras 1 per-gate array (filters, stack, rows, cols), transposed "
    "(2, 3, 1, 0) from dim_ordering='th'",
    ("keras1-th", "recurrent_kernel"): "a whole Keras 1 per-gate array (filters, filters, rows, cols), "
    "transposed (2, 3, 1, 0) from dim_ordering='th'",
    ("keras1-th", "bias"): "a whole Keras 1 per-gate array",
}
