"""What each recurrent cell computes, as data: one expression tree per cell form, written once.

The same trees are *run* by the reference forward pass (``kernelsplit/forward.py``) and *shown* by
``kernelsplit explain``, so what explain prints is exactly what the forward pass computes, and the
forward pass is proved against Keras's own outputs (docs/formats.md, "Cell equations").

Symbols: ``x`` is the step's input, ``h_prev``/``c_prev`` the previous states; gate blocks are
:class:`Block` s named by (part, gate) as in ``layouts.py``. Keras multiplies row vectors
(``x·W``); in a ConvLSTM the ``·`` is a convolution (:class:`Convolution`). A block whose part the
layer does not store (no bias, no recurrent bias) is pruned from the tree (:func:`bind`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Union

import numpy as np

# ------------------------------------------------------------------------------------ the trees


@dataclass(frozen=True)
class Sym:
    """A value of the step: the input, a previous state, or what an earlier equation defined."""

    key: str


@dataclass(frozen=True)
class Block:
    """One stored gate block, e.g. ``Block("kernel", "f")`` is W_f."""

    part: str
    gate: str


@dataclass(frozen=True)
class Dot:
    """``left · block``: a matrix product, or in a ConvLSTM a convolution on the ``side``'s settings."""

    left: Expr
    block: Block
    #: ``input`` (the layer's strides, padding, dilation) or ``recurrent`` (strides 1, padding same).
    side: str


@dataclass(frozen=True)
class Sum:
    terms: tuple[Expr, ...]


@dataclass(frozen=True)
class Hadamard:
    """Element-wise product ``a ⊙ b``."""

    factors: tuple[Expr, ...]


@dataclass(frozen=True)
class Act:
    """An activation slot of the layer: ``activation`` or ``recurrent_activation``."""

    slot: str
    arg: Expr


@dataclass(frozen=True)
class OneMinus:
    arg: Expr


Expr = Union[Sym, Block, Dot, Sum, Hadamard, Act, OneMinus]  # noqa: UP007 - a runtime alias on Python 3.10


@dataclass(frozen=True)
class Equation:
    """``target = expr``; ``condition`` is set when the file does not say which of two forms applies."""

    target: str
    expr: Expr
    meaning: str
    condition: str | None = None


@dataclass(frozen=True)
class CellEquations:
    """One cell form: its state symbols, its equations in evaluation order, and its output."""

    name: str
    kind: str
    #: (new state, previous state) symbol pairs, in Keras's state order (``[h, c]``).
    states: tuple[tuple[str, str], ...]
    equations: tuple[Equation, ...]
    output: str
    #: True when ``·`` is a convolution (ConvLSTM).
    convolution: bool = False
    #: What the form is, for humans (``GRU, reset_after=True``).
    title: str = ""


#: How each symbol is written: text (terminal) and the meaning shown in legends.
SYMBOLS: dict[str, str] = {
    "x": "x_t",
    "h_prev": "h_{t-1}",
    "c_prev": "c_{t-1}",
    "i": "i_t",
    "f": "f_t",
    "g": "g_t",
    "o": "o_t",
    "c": "c_t",
    "h": "h_t",
    "z": "z_t",
    "r": "r_t",
    "n": "n_t",
}

#: Block symbols: part -> letter (``W_f``, ``U_f``, ``b_f``, ``br_f``).
BLOCK_LETTERS: dict[str, str] = {"kernel": "W", "recurrent_kernel": "U", "bias": "b", "recurrent_bias": "br"}
BLOCK_MEANINGS: dict[str, str] = {
    "kernel": "input kernel block",
    "recurrent_kernel": "recurrent kernel block",
    "bias": "bias block (input side)",
    "recurrent_bias": "recurrent-side bias block",
}


def block_symbol(part: str, gate: str) -> str:
    return f"{BLOCK_LETTERS[part]}_{gate}"


X, H_PREV, C_PREV = Sym("x"), Sym("h_prev"), Sym("c_prev")


def _W(gate: str) -> Dot:
    return Dot(X, Block("kernel", gate), "input")


def _U(gate: str) -> Dot:
    return Dot(H_PREV, Block("recurrent_kernel", gate), "recurrent")


def _b(gate: str) -> Block:
    return Block("bias", gate)


def _br(gate: str) -> Block:
    return Block("recurrent_bias", gate)


def _gate(slot: str, gate: str) -> Act:
    """``slot(x·W_g + h·U_g + b_g + br_g)``: every gate of LSTM and the z, r gates of GRU.

    ``br_g`` (a CuDNN bias's recurrent half, a GRU reset_after bias's row 1) is pruned when absent.
    """
    return Act(slot, Sum((_W(gate), _U(gate), _b(gate), _br(gate))))


_LSTM_EQUATIONS = (
    Equation("i", _gate("recurrent_activation", "i"), "input gate"),
    Equation("f", _gate("recurrent_activation", "f"), "forget gate"),
    Equation("g", _gate("activation", "c"), "cell candidate (Keras gate c)"),
    Equation("c", Sum((Hadamard((Sym("f"), C_PREV)), Hadamard((Sym("i"), Sym("g"))))), "cell state"),
    Equation("o", _gate("recurrent_activation", "o"), "output gate"),
    Equation("h", Hadamard((Sym("o"), Act("activation", Sym("c")))), "hidden state and output"),
)
_GRU_GATES = (
    Equation("z", _gate("recurrent_activation", "z"), "update gate"),
    Equation("r", _gate("recurrent_activation", "r"), "reset gate"),
)
_GRU_RESET_BEFORE = Equation(
    "n",
    Act(
        "activation",
        Sum((_W("h"), _b("h"), Dot(Hadamard((Sym("r"), H_PREV)), Block("recurrent_kernel", "h"), "recurrent"))),
    ),
    "candidate state (reset applied to h before U_h)",
)
_GRU_RESET_AFTER = Equation(
    "n",
    Act("activation", Sum((_W("h"), _b("h"), Hadamard((Sym("r"), Sum((_U("h"), _br("h")))))))),
    "candidate state (reset applied after U_h, recurrent bias inside)",
)
_GRU_OUTPUT = Equation(
    "h",
    Sum((Hadamard((Sym("z"), H_PREV)), Hadamard((OneMinus(Sym("z")), Sym("n"))))),
    "hidden state and output",
)

LSTM = CellEquations("lstm", "lstm", (("h", "h_prev"), ("c", "c_prev")), _LSTM_EQUATIONS, "h", title="LSTM")
CONV_LSTM = replace(LSTM, name="conv_lstm", kind="conv_lstm", convolution=True, title="ConvLSTM")
GRU_RESET_BEFORE = CellEquations(
    "gru-reset-before",
    "gru",
    (("h", "h_prev"),),
    (*_GRU_GATES, _GRU_RESET_BEFORE, _GRU_OUTPUT),
    "h",
    title="GRU, reset_after=False",
)
GRU_RESET_AFTER = CellEquations(
    "gru-reset-after",
    "gru",
    (("h", "h_prev"),),
    (*_GRU_GATES, _GRU_RESET_AFTER, _GRU_OUTPUT),
    "h",
    title="GRU, reset_after=True",
)
#: A GRU whose file says neither: both candidate forms, each under its condition (never run).
GRU_RESET_UNKNOWN = CellEquations(
    "gru-reset-unknown",
    "gru",
    (("h", "h_prev"),),
    (
        *_GRU_GATES,
        replace(_GRU_RESET_BEFORE, condition="reset_after=False"),
        replace(_GRU_RESET_AFTER, condition="reset_after=True"),
        _GRU_OUTPUT,
    ),
    "h",
    title="GRU, reset_after unknown",
)
SIMPLE_RNN = CellEquations(
    "simple_rnn",
    "simple_rnn",
    (("h", "h_prev"),),
    (Equation("h", Act("activation", Sum((_W("h"), _U("h"), _b("h")))), "hidden state and output"),),
    "h",
    title="SimpleRNN",
)


def cell_equations(kind: str, reset_after: bool | None = None) -> CellEquations:
    """The form of a cell kind; a GRU needs ``reset_after`` (None gives both forms, for display only)."""
    if kind == "gru":
        return {False: GRU_RESET_BEFORE, True: GRU_RESET_AFTER, None: GRU_RESET_UNKNOWN}[reset_after]
    return {"lstm": LSTM, "conv_lstm": CONV_LSTM, "simple_rnn": SIMPLE_RNN}[kind]


# ------------------------------------------------------------------------------ binding to a layer


def _prune(expr: Expr, parts: frozenset[str]) -> Expr | None:
    """``expr`` without the blocks of parts the layer does not store (None if nothing is left)."""
    if isinstance(expr, Block):
        return expr if expr.part in parts else None
    if isinstance(expr, Sum):
        terms = tuple(t for t in (_prune(term, parts) for term in expr.terms) if t is not None)
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else Sum(terms)
    if isinstance(expr, Hadamard):
        factors = tuple(_prune(f, parts) for f in expr.factors)
        return None if any(f is None for f in factors) else Hadamard(factors)  # type: ignore[arg-type]
    if isinstance(expr, Act):
        arg = _prune(expr.arg, parts)
        return None if arg is None else Act(expr.slot, arg)
    if isinstance(expr, OneMinus):
        arg = _prune(expr.arg, parts)
        return None if arg is None else OneMinus(arg)
    if isinstance(expr, Dot):
        left = _prune(expr.left, parts)
        return None if left is None or expr.block.part not in parts else Dot(left, expr.block, expr.side)
    return expr


def bind(form: CellEquations, parts: frozenset[str] | set[str]) -> CellEquations:
    """The form for a layer storing ``parts``: absent bias terms are dropped (``use_bias=False``,
    a single bias without a recurrent half)."""
    frozen = frozenset(parts)
    equations = []
    for equation in form.equations:
        expr = _prune(equation.expr, frozen)
        if expr is None:
            raise ValueError(f"{form.name}: equation {equation.target} needs parts the layer lacks")
        equations.append(replace(equation, expr=expr))
    return replace(form, equations=tuple(equations))


def blocks_of(expr: Expr) -> list[Block]:
    """The gate blocks an expression reads, in reading order."""
    if isinstance(expr, Block):
        return [expr]
    if isinstance(expr, Dot):
        return [*blocks_of(expr.left), expr.block]
    if isinstance(expr, Sum):
        return [b for term in expr.terms for b in blocks_of(term)]
    if isinstance(expr, Hadamard):
        return [b for factor in expr.factors for b in blocks_of(factor)]
    if isinstance(expr, (Act, OneMinus)):
        return blocks_of(expr.arg)
    return []


def slots_of(expr: Expr) -> list[str]:
    """The activation slots an expression applies, in reading order."""
    if isinstance(expr, Act):
        return [expr.slot, *slots_of(expr.arg)]
    if isinstance(expr, Dot):
        return slots_of(expr.left)
    if isinstance(expr, Sum):
        return [s for term in expr.terms for s in slots_of(term)]
    if isinstance(expr, Hadamard):
        return [s for factor in expr.factors for s in slots_of(factor)]
    if isinstance(expr, OneMinus):
        return slots_of(expr.arg)
    return []


# -------------------------------------------------------------------------------------- rendering


#: The text of the operators, per output flavour (``text`` for terminals and markdown code blocks).
DOT, CONV, HADAMARD = "·", "∗", "⊙"


def render(expr: Expr, activation_names: Callable[[str], str], convolution: bool = False) -> str:
    """One expression as text: ``hard_sigmoid(x_t·W_i + h_{t-1}·U_i + b_i)``.

    ``activation_names`` maps a slot to what to print for it (the activation's name, or
    ``recurrent_activation?`` when the file does not say).
    """

    def go(node: Expr, inside: str) -> str:
        if isinstance(node, Sym):
            return SYMBOLS[node.key]
        if isinstance(node, Block):
            return block_symbol(node.part, node.gate)
        if isinstance(node, Dot):
            return (
                f"{go(node.left, 'dot')}{CONV if convolution else DOT}{block_symbol(node.block.part, node.block.gate)}"
            )
        if isinstance(node, Sum):
            text = " + ".join(go(term, "sum") for term in node.terms)
            return f"({text})" if inside in ("dot", "hadamard") else text
        if isinstance(node, Hadamard):
            text = f" {HADAMARD} ".join(go(factor, "hadamard") for factor in node.factors)
            return f"({text})" if inside == "dot" else text
        if isinstance(node, Act):
            return f"{activation_names(node.slot)}({go(node.arg, 'call')})"
        if isinstance(node, OneMinus):
            return f"(1 - {go(node.arg, 'sum')})"
        raise TypeError(node)

    return go(expr, "top")


# ---------------------------------------------------------------------------- sequences and merges


@dataclass(frozen=True)
class Convolution:
    """A ConvLSTM's input convolution, as its stored config says (the recurrent one always uses
    strides 1 and padding ``same``, docs/formats.md "ConvLSTM")."""

    rank: int
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str
    dilation_rate: tuple[int, ...]
    data_format: str

    def as_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "data_format": self.data_format,
        }

    def describe(self) -> str:
        def tup(values: tuple[int, ...]) -> str:
            return "×".join(str(v) for v in values)

        return (
            f"{self.rank}-D convolution, kernel {tup(self.kernel_size)}, strides {tup(self.strides)}, "
            f"padding {self.padding}, dilation {tup(self.dilation_rate)}, {self.data_format}"
        )


#: The paddings a ConvLSTM's input convolution can use (Keras 1 calls them border_mode).
PADDINGS = ("valid", "same")
DATA_FORMATS = ("channels_last", "channels_first")


@dataclass(frozen=True)
class MergeMode:
    """How Keras's Bidirectional joins its two directions' outputs (the backward one flipped back
    into input time order first when it returns sequences)."""

    name: str | None
    formula: str
    merge: Callable[[np.ndarray, np.ndarray], np.ndarray | list[np.ndarray]]


def _concat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([a, b], axis=-1)


MERGE_MODES: dict[str | None, MergeMode] = {
    m.name: m
    for m in (
        MergeMode("concat", "y_t = [h→_t ; h←_t]  (concatenated on the feature axis)", _concat),
        MergeMode("sum", "y_t = h→_t + h←_t", lambda a, b: a + b),
        MergeMode("mul", "y_t = h→_t ⊙ h←_t", lambda a, b: a * b),
        MergeMode("ave", "y_t = (h→_t + h←_t) / 2", lambda a, b: (a + b) / 2),
        MergeMode(None, "y = [h→, h←]  (two outputs, not merged)", lambda a, b: [a, b]),
    )
}

#: How a layer walks its sequence.
SEQUENCE_FORWARD = "h_0 = 0 (or initial_state); for t = 1 … T"
SEQUENCE_BACKWARD = "h_0 = 0 (or initial_state); for t = T … 1 (go_backwards): outputs in that processing order"
OUTPUT_SEQUENCES = "returns every h_t (return_sequences=True)"
OUTPUT_LAST = "returns the last h_t only (return_sequences=False)"
