"""Gate layouts as data: one table row per cell kind.

Every fused Keras tensor of a recurrent cell stacks its gate blocks on the **last axis**, each block
``units`` wide, in the order given here (Keras 2/3, tf.keras; Keras 1 and CuDNN files are converted
to this order by the readers). Nothing else in kernelsplit hard-codes a gate order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellLayout:
    kind: str
    gates: tuple[str, ...]
    gate_names: dict[str, str]
    #: Keras classes (layer or cell) whose weights follow this layout; the first names the kind.
    classes: tuple[str, ...]

    @property
    def n_gates(self) -> int:
        return len(self.gates)


PARTS: tuple[str, ...] = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")

PART_DESCRIPTIONS = {
    "kernel": "input weights W (x @ W)",
    "recurrent_kernel": "recurrent weights U (h @ U)",
    "bias": "bias b (input side)",
    "recurrent_bias": "recurrent-side bias (GRU reset_after row 1, CuDNN second half)",
}

LAYOUTS: dict[str, CellLayout] = {
    layout.kind: layout
    for layout in (
        CellLayout(
            kind="lstm",
            gates=("i", "f", "c", "o"),
            gate_names={"i": "input", "f": "forget", "c": "cell candidate", "o": "output"},
            classes=("LSTM", "LSTMCell", "CuDNNLSTM", "LSTMV1", "PeepholeLSTMCell"),
        ),
        CellLayout(
            kind="gru",
            gates=("z", "r", "h"),
            gate_names={"z": "update", "r": "reset", "h": "candidate"},
            classes=("GRU", "GRUCell", "CuDNNGRU", "GRUV1"),
        ),
        CellLayout(
            kind="simple_rnn",
            gates=("h",),
            gate_names={"h": "hidden"},
            classes=("SimpleRNN", "SimpleRNNCell"),
        ),
        CellLayout(
            kind="conv_lstm",
            gates=("i", "f", "c", "o"),
            gate_names={"i": "input", "f": "forget", "c": "cell candidate", "o": "output"},
            classes=(
                "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "ConvLSTM1DCell", "ConvLSTM2DCell",
                "ConvLSTM3DCell", "ConvLSTMCell",
            ),
        ),
    )
}

#: Keras class name -> cell kind, derived from the table above.
CLASS_TO_KIND: dict[str, str] = {cls: lay.kind for lay in LAYOUTS.values() for cls in lay.classes}

#: Gate count -> cell kind when only shapes are known (2-D kernels; ConvLSTM has >2-D kernels).
GATE_COUNT_TO_KIND: dict[int, str] = {4: "lstm", 3: "gru", 1: "simple_rnn"}


def layout_for(kind: str) -> CellLayout:
    return LAYOUTS[kind]
