"""The reference forward pass: what Keras computes for a recurrent layer, in numpy, from its gate blocks.

It runs the cell forms of ``equations.py`` (the trees ``kernelsplit explain`` prints) on the
layer's own gate blocks, with the activations its file names resolved for the Keras generation that
wrote it (``maths.resolve``). Float64 by default. It is the ground truth a port is tested against,
without TensorFlow; the tests prove it against Keras's own outputs for every fixture and every
real-world layer (docs/formats.md, "Cell equations").

>>> import kernelsplit, numpy as np                                   # doctest: +SKIP
>>> layer = kernelsplit.open("model.h5").layers[0]                     # doctest: +SKIP
>>> result = layer.forward(np.zeros((1, 5, layer.input_dim)))          # doctest: +SKIP
>>> result.output, result.states                                       # doctest: +SKIP

What the file does not say is never filled in: a layer whose activations, ``go_backwards``, GRU
form or convolution settings are unknown raises :class:`~kernelsplit.errors.UnknownMathsError`
(fill them in explicitly with ``kernelsplit.analysis.assume.assume``).

This module is in the foundation (it imports no other room): it takes layers by the attributes it
reads (:class:`LayerLike`), which ``kernelsplit.model.RecurrentLayer`` has.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .equations import (
    MERGE_MODES,
    Act,
    Block,
    CellEquations,
    Convolution,
    Dot,
    Expr,
    Hadamard,
    OneMinus,
    Sum,
    Sym,
    bind,
    cell_equations,
)
from .errors import UnknownMathsError, UsageError
from .maths import resolve

ActivationFn = Callable[[np.ndarray], np.ndarray]

#: The maths facts the forward pass needs per cell kind (besides the stored blocks).
NEEDED: dict[str, tuple[str, ...]] = {
    "lstm": ("activation", "recurrent_activation", "go_backwards"),
    "gru": ("activation", "recurrent_activation", "go_backwards", "reset_after"),
    "simple_rnn": ("activation", "go_backwards"),
    "conv_lstm": ("activation", "recurrent_activation", "go_backwards", "convolution"),
}


# ------------------------------------------------------------------------------ what a layer offers


class _Fact(Protocol):
    @property
    def value(self) -> Any: ...
    @property
    def origin(self) -> Any: ...
    @property
    def known(self) -> bool: ...


class _Maths(Protocol):
    @property
    def activation(self) -> _Fact: ...
    @property
    def recurrent_activation(self) -> _Fact: ...
    @property
    def reset_after(self) -> _Fact: ...
    @property
    def go_backwards(self) -> _Fact: ...
    @property
    def merge_mode(self) -> _Fact: ...
    @property
    def convolution(self) -> _Fact: ...
    @property
    def writer(self) -> Any: ...


class _Block(Protocol):
    @property
    def part(self) -> str: ...
    @property
    def gate(self) -> str: ...
    @property
    def array(self) -> np.ndarray: ...
    @property
    def dtype(self) -> str: ...


class LayerLike(Protocol):
    """What the forward pass reads of a layer (``kernelsplit.model.RecurrentLayer`` has it all)."""

    @property
    def name(self) -> str: ...
    @property
    def cell(self) -> str: ...
    @property
    def units(self) -> int: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def maths(self) -> _Maths: ...
    @property
    def tensors(self) -> Sequence[_Block]: ...


# ------------------------------------------------------------------------------------ the program


@dataclass(frozen=True)
class CellProgram:
    """One cell ready to run: its equations bound to its blocks, activations and convolution."""

    name: str
    form: CellEquations
    blocks: Mapping[tuple[str, str], np.ndarray]
    activations: Mapping[str, ActivationFn]
    units: int
    go_backwards: bool
    convolution: Convolution | None = None

    @property
    def n_states(self) -> int:
        return len(self.form.states)


def _unknown(layer: LayerLike) -> list[str]:
    return [key for key in NEEDED[layer.cell] if not getattr(layer.maths, key).known]


def _compute_dtype(layer: LayerLike, dtype: Any) -> np.dtype[Any]:
    if isinstance(dtype, str) and dtype == "stored":
        stored = {t.dtype for t in layer.tensors}
        if len(stored) != 1:
            raise UsageError(f"{layer.name}: its parts are stored in different dtypes {sorted(stored)}")
        name = stored.pop()
        chosen: np.dtype[Any] = np.dtype("float32" if name == "bfloat16" else name)  # bfloat16: its exact float32
        return chosen
    resolved: np.dtype[Any] = np.dtype(dtype)
    if resolved.kind != "f":
        raise UsageError(f"forward pass dtype must be a float type or 'stored', not {resolved}")
    return resolved


def program(layer: LayerLike, dtype: Any = np.float64) -> CellProgram:
    """Bind ``layer`` to its cell form; raise :class:`UnknownMathsError` for anything its file does not say."""
    unknown = _unknown(layer)
    if unknown:
        writer = layer.maths.writer
        who = writer.describe() if writer is not None else "an unknown Keras"
        raise UnknownMathsError(
            f"{layer.name}: {', '.join(unknown)} not stored in this file (written by {who}); the forward "
            "pass never guesses them: fill them in with kernelsplit.analysis.assume.assume(layer, ...)"
        )
    maths = layer.maths
    activations: dict[str, ActivationFn] = {}
    for slot in ("activation", "recurrent_activation"):
        if slot not in NEEDED[layer.cell]:
            continue
        name = getattr(maths, slot).value
        found = resolve(name, maths.writer) if isinstance(name, str) and maths.writer is not None else None
        if found is None:
            who = maths.writer.describe() if maths.writer is not None else "an unknown Keras"
            raise UnknownMathsError(
                f"{layer.name}: {slot}={name!r} is not a function kernelsplit can pin down for {who}"
            )
        activations[slot] = found.function
    compute = _compute_dtype(layer, dtype)
    blocks = {(t.part, t.gate): np.asarray(t.array, dtype=compute) for t in layer.tensors}
    parts = {part for part, _ in blocks}
    reset_after = maths.reset_after.value if layer.cell == "gru" else None
    if layer.cell == "gru" and reset_after and "bias" in parts and "recurrent_bias" not in parts:
        raise UnknownMathsError(f"{layer.name}: GRU reset_after=True but the file stores no recurrent bias row")
    form = bind(cell_equations(layer.cell, reset_after), parts)
    convolution = maths.convolution.value if layer.cell == "conv_lstm" else None
    return CellProgram(
        name=layer.name,
        form=form,
        blocks=blocks,
        activations=activations,
        units=layer.units,
        go_backwards=bool(maths.go_backwards.value),
        convolution=convolution,
    )


# ------------------------------------------------------------------------------------ convolution


def _same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TF/Keras ``same`` padding: the total pad split with the extra one on the right."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def conv_nd(x: np.ndarray, w: np.ndarray, strides: Sequence[int], padding: str, dilation: Sequence[int]) -> np.ndarray:
    """N-d cross-correlation, channels last: x (B, *S, Cin), w (*K, Cin, Cout), as Keras's ``conv``."""
    rank = w.ndim - 2
    kernel = w.shape[:rank]
    if padding == "same":
        pads = [_same_pads(x.shape[1 + i], kernel[i], strides[i], dilation[i]) for i in range(rank)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    elif padding != "valid":
        raise UnknownMathsError(f"convolution padding {padding!r} is not one kernelsplit computes")
    sizes = x.shape[1:-1]
    out_sizes = [(sizes[i] - ((kernel[i] - 1) * dilation[i] + 1)) // strides[i] + 1 for i in range(rank)]
    if any(n <= 0 for n in out_sizes):
        raise UsageError(f"input of spatial size {tuple(sizes)} is smaller than the convolution's kernel")
    y = np.zeros((x.shape[0], *out_sizes, w.shape[-1]), dtype=np.result_type(x, w))
    for offset in itertools.product(*(range(k) for k in kernel)):
        window = tuple(
            slice(offset[i] * dilation[i], offset[i] * dilation[i] + (out_sizes[i] - 1) * strides[i] + 1, strides[i])
            for i in range(rank)
        )
        index = (slice(None), *window, slice(None))
        y += x[index] @ w[offset]
    return y


# ------------------------------------------------------------------------------------------ steps


def _dot(cell: CellProgram, left: np.ndarray, block: np.ndarray, side: str) -> np.ndarray:
    conv = cell.convolution
    if conv is None:
        product: np.ndarray = left @ block
        return product
    if side == "input":
        return conv_nd(left, block, conv.strides, conv.padding, conv.dilation_rate)
    ones = (1,) * conv.rank
    return conv_nd(left, block, ones, "same", ones)


def _evaluate(cell: CellProgram, expr: Expr, env: dict[str, np.ndarray]) -> np.ndarray:
    if isinstance(expr, Sym):
        return env[expr.key]
    if isinstance(expr, Block):
        return cell.blocks[(expr.part, expr.gate)]
    if isinstance(expr, Dot):
        return _dot(cell, _evaluate(cell, expr.left, env), cell.blocks[(expr.block.part, expr.block.gate)], expr.side)
    if isinstance(expr, Sum):
        total = _evaluate(cell, expr.terms[0], env)
        for term in expr.terms[1:]:
            total = total + _evaluate(cell, term, env)
        return total
    if isinstance(expr, Hadamard):
        product = _evaluate(cell, expr.factors[0], env)
        for factor in expr.factors[1:]:
            product = product * _evaluate(cell, factor, env)
        return product
    if isinstance(expr, Act):
        return cell.activations[expr.slot](_evaluate(cell, expr.arg, env))
    if isinstance(expr, OneMinus):
        return 1.0 - _evaluate(cell, expr.arg, env)
    raise TypeError(expr)


def step(cell: CellProgram, x: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One time step: ``(x_t, [h_{t-1}(, c_{t-1})]) -> (output, [h_t(, c_t)])``."""
    env: dict[str, np.ndarray] = {"x": x}
    for (_, previous), value in zip(cell.form.states, states, strict=True):
        env[previous] = value
    for equation in cell.form.equations:
        env[equation.target] = _evaluate(cell, equation.expr, env)
    return env[cell.form.output], [env[new] for new, _ in cell.form.states]


def _zero_states(cell: CellProgram, x_t: np.ndarray) -> list[np.ndarray]:
    if cell.convolution is None:
        shape: tuple[int, ...] = (x_t.shape[0], cell.units)
    else:  # the input convolution's output shape (a ConvLSTM's state is a feature map)
        kernel = next(block for (part, _), block in cell.blocks.items() if part == "kernel")
        shape = _dot(cell, x_t, kernel, "input").shape
    return [np.zeros(shape, dtype=x_t.dtype) for _ in range(cell.n_states)]


# ------------------------------------------------------------------------------------------ layers


@dataclass
class ForwardResult:
    """What a Keras recurrent layer returns, computed by the reference.

    ``sequence`` holds every step's output (B, T, ...) in Keras's order (processing order for
    ``go_backwards``; (T, B, ...) for a ``time_major`` layer); ``output`` is what the layer returns
    (``sequence`` or its last step, as ``return_sequences`` says); ``states`` the final states in
    Keras's order (``[h, c]`` / ``[h]``; a Bidirectional: forward states then backward states).
    """

    output: np.ndarray | list[np.ndarray]
    sequence: np.ndarray | list[np.ndarray]
    states: list[np.ndarray]
    return_sequences: bool


def _as_input(x: Any, dtype: np.dtype[Any], cells: Sequence[CellProgram]) -> tuple[np.ndarray, bool]:
    seq = np.asarray(x, dtype=dtype)
    first = cells[0]
    rank = first.convolution.rank if first.convolution else 0
    if seq.ndim != 3 + rank:
        want = "(batch, time, features)" if not rank else f"(batch, time, {rank} spatial axes and channels)"
        raise UsageError(f"{first.name}: input of shape {seq.shape} is not {want}")
    channels_first = first.convolution is not None and first.convolution.data_format == "channels_first"
    if channels_first:
        seq = np.moveaxis(seq, 2, -1)
    return seq, channels_first


def run(
    cells: Sequence[CellProgram],
    x: Any,
    initial_state: Sequence[Any] | None = None,
    *,
    return_sequences: bool = True,
    go_backwards: bool | None = None,
) -> ForwardResult:
    """Run one RNN layer over ``x`` (batch, time, ...); several cells are a ``StackedRNNCells``.

    ``initial_state`` lists every cell's states in order (Keras's ``initial_state``).
    """
    if not cells:
        raise UsageError("no cell to run")
    dtype = next(iter(cells[0].blocks.values())).dtype
    seq, channels_first = _as_input(x, dtype, cells)
    if seq.shape[1] == 0:
        raise UsageError("the input has no time steps")
    backwards = cells[0].go_backwards if go_backwards is None else go_backwards
    states: list[list[np.ndarray] | None] = [None] * len(cells)
    if initial_state is not None:
        given = [np.asarray(s, dtype=dtype) for s in initial_state]
        want = sum(cell.n_states for cell in cells)
        if len(given) != want:
            raise UsageError(f"initial_state holds {len(given)} arrays; this layer has {want} states")
        if channels_first:
            given = [np.moveaxis(s, 1, -1) for s in given]
        position = 0
        for index, cell in enumerate(cells):
            states[index] = given[position : position + cell.n_states]
            position += cell.n_states
    order = range(seq.shape[1] - 1, -1, -1) if backwards else range(seq.shape[1])
    outputs = []
    for t in order:
        value = seq[:, t]
        for index, cell in enumerate(cells):
            current = states[index]
            if current is None:
                current = _zero_states(cell, value)
            value, states[index] = step(cell, value, current)
        outputs.append(value)
    sequence = np.stack(outputs, axis=1)
    final = [s for cell_states in states if cell_states is not None for s in cell_states]
    if channels_first:
        sequence = np.moveaxis(sequence, -1, 2)
        final = [np.moveaxis(s, -1, 1) for s in final]
    return ForwardResult(
        output=sequence if return_sequences else sequence[:, -1],
        sequence=sequence,
        states=final,
        return_sequences=return_sequences,
    )


def _return_sequences(layer: LayerLike, given: bool | None) -> bool:
    """As asked, else as the layer's config says, else Keras's default (False in every generation)."""
    if given is not None:
        return given
    stored = layer.config.get("return_sequences")
    return stored if isinstance(stored, bool) else False


def time_major(layer: LayerLike) -> bool:
    """tf.keras's ``time_major=True``: the layer takes and returns (time, batch, ...) sequences."""
    return layer.config.get("time_major") is True


def _swap_time_and_batch(result: ForwardResult) -> ForwardResult:
    assert isinstance(result.sequence, np.ndarray) and isinstance(result.output, np.ndarray)
    sequence = np.swapaxes(result.sequence, 0, 1)
    output = sequence if result.return_sequences else result.output
    return ForwardResult(
        output=output, sequence=sequence, states=result.states, return_sequences=result.return_sequences
    )


def forward(
    layer: LayerLike | Sequence[LayerLike],
    x: Any,
    initial_state: Sequence[Any] | None = None,
    *,
    return_sequences: bool | None = None,
    dtype: Any = np.float64,
) -> ForwardResult:
    """Run a layer (or the cells of one ``StackedRNNCells`` RNN, in order) as Keras would.

    ``return_sequences`` None follows the layer's stored config (Keras's default False when it has
    none); ``dtype`` is the compute type (float64 by default; ``"stored"`` for the stored one).
    A ``time_major`` layer takes ``x`` as (time, batch, ...) and returns its sequences so, as Keras does.
    """
    layers = list(layer) if isinstance(layer, Sequence) else [layer]
    cells = [program(one, dtype) for one in layers]
    if len({cell.go_backwards for cell in cells}) > 1:
        raise UsageError("the cells of one stacked RNN must share go_backwards")
    major = time_major(layers[0])
    if major:
        x = np.swapaxes(np.asarray(x), 0, 1)
    result = run(cells, x, initial_state, return_sequences=_return_sequences(layers[0], return_sequences))
    return _swap_time_and_batch(result) if major else result


def bidirectional(
    forward_layer: LayerLike,
    backward_layer: LayerLike,
    x: Any,
    initial_state: Sequence[Any] | None = None,
    *,
    merge_mode: str | None = "recorded",
    return_sequences: bool | None = None,
    dtype: Any = np.float64,
) -> ForwardResult:
    """A Keras ``Bidirectional``: both directions on ``x``, the backward one's outputs flipped back
    into input order (when it returns sequences), merged by ``merge_mode`` (``"recorded"``: the file's).

    ``initial_state`` holds the forward layer's states then the backward layer's, as in Keras.
    """
    if merge_mode == "recorded":
        fact = forward_layer.maths.merge_mode
        if not fact.known:
            raise UnknownMathsError(
                f"{forward_layer.name}: the file does not record the Bidirectional merge_mode; pass merge_mode="
            )
        mode = fact.value
    else:
        mode = merge_mode
    if mode not in MERGE_MODES:
        raise UnknownMathsError(f"merge_mode {mode!r} is not one Keras offers ({', '.join(map(str, MERGE_MODES))})")
    merge = MERGE_MODES[mode].merge
    sequences = _return_sequences(forward_layer, return_sequences)
    ahead_state: Sequence[Any] | None = None
    back_state: Sequence[Any] | None = None
    if initial_state is not None:
        split = _n_states(forward_layer)
        ahead_state, back_state = initial_state[:split], initial_state[split:]
    ahead = forward(forward_layer, x, ahead_state, return_sequences=sequences, dtype=dtype)
    back = forward(backward_layer, x, back_state, return_sequences=sequences, dtype=dtype)
    back_output = back.output
    back_sequence = back.sequence
    assert isinstance(back_output, np.ndarray) and isinstance(back_sequence, np.ndarray)
    time_axis = 0 if time_major(forward_layer) else 1
    if sequences:
        back_output = np.flip(back_output, axis=time_axis)
    back_sequence = np.flip(back_sequence, axis=time_axis)
    assert isinstance(ahead.output, np.ndarray) and isinstance(ahead.sequence, np.ndarray)
    return ForwardResult(
        output=merge(ahead.output, back_output),
        sequence=merge(ahead.sequence, back_sequence),
        states=[*ahead.states, *back.states],
        return_sequences=sequences,
    )


def _n_states(layer: LayerLike) -> int:
    return 2 if layer.cell in ("lstm", "conv_lstm") else 1
