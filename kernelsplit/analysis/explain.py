"""``kernelsplit explain``: what Keras computes for one layer, every term bound to its place in the file.

The equations are the cell forms of ``equations.py`` — the same trees the reference forward pass
runs — bound to the layer's stored parts (no bias terms for ``use_bias=False``; a CuDNN bias's two
halves, a GRU ``reset_after`` bias's two rows). Every block symbol (``W_f``) is bound to its stored
tensor, slice, shape, dtype and digest; every activation to its name, where that name came from,
and what the generation that wrote the file computes for it (with the Keras 3 reload trap where the
name means something else there). What the file does not say is shown as unknown, never filled in.
Renderers (``render/explain/``) only format a :class:`LayerExplanation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..equations import (
    BLOCK_MEANINGS,
    MERGE_MODES,
    OUTPUT_LAST,
    OUTPUT_SEQUENCES,
    SEQUENCE_BACKWARD,
    SEQUENCE_FORWARD,
    SYMBOLS,
    Act,
    Block,
    Dot,
    Expr,
    Hadamard,
    OneMinus,
    Sum,
    Sym,
    bind,
    block_symbol,
    blocks_of,
    cell_equations,
    render,
    slots_of,
)
from ..forward import time_major
from ..layouts import CELL_LAYOUTS, CONVERSIONS
from ..maths import Generation, activation, differs_in_keras3, resolve
from ..model import Artifact, Fact, GateTensor, RecurrentLayer, Storage
from .classify import KERAS1_TH_NOTE


@dataclass(frozen=True)
class Term:
    """One block symbol of the equations, bound to where it is stored."""

    symbol: str
    part: str
    gate: str
    meaning: str
    stored_path: str
    selection: str
    shape: tuple[int, ...]
    dtype: str
    sha256: str
    #: How the stored slice becomes this block, when it is not the slice itself (CuDNN, Keras 1).
    conversion: str | None


@dataclass(frozen=True)
class ActivationUse:
    """An activation slot of the layer: its name, where the name came from, and what it computes."""

    slot: str
    name: str | None
    origin: str | None
    #: What the writing generation computes for the name; None when unknown or ambiguous.
    formula: str | None
    #: Who wrote the file (``Keras 2.1.5``), whose definition of the name applies.
    written_by: str | None
    #: The Keras 3 formula, when Keras 3 would load this name and compute another function.
    keras3_formula: str | None = None
    #: When the writer is not known: each possible generation's formula for the name.
    candidates: dict[str, str | None] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.name is not None


@dataclass(frozen=True)
class EquationLine:
    target: str
    text: str
    meaning: str
    condition: str | None
    expression: Expr
    terms: tuple[str, ...]


@dataclass
class LayerExplanation:
    name: str
    class_name: str
    cell: str
    units: int
    direction: str | None
    written_by: str | None
    generation: str | None
    #: The cell form's title (``GRU, reset_after=True``) and name (``gru-reset-after``).
    title: str
    form: str
    equations: list[EquationLine]
    terms: list[Term]
    activations: list[ActivationUse]
    #: How the layer walks its sequence, and what it returns.
    sequence: str
    output: str
    #: The maths facts the equations depend on, each with its origin.
    facts: dict[str, Fact[Any]]
    #: A ConvLSTM's convolutions, in words; None for other cells (or when unknown).
    convolution: str | None
    #: The Bidirectional wrapper, its merge mode (with origin) and formula, for a direction of one.
    bidirectional: dict[str, Any] | None
    #: How the file stores the blocks, when it is not Keras 2/3's fused layout.
    storage: str | None
    notes: list[str]
    #: The (layer's) input dimension, as stored.
    input_dim: int | None = None


def _activation_use(layer: RecurrentLayer, slot: str) -> ActivationUse:
    fact = getattr(layer.maths, slot)
    writer = layer.maths.writer
    written_by = writer.describe() if writer is not None else None
    name = fact.value if isinstance(fact.value, str) else None
    if name is None:
        return ActivationUse(slot, None, None, None, written_by)
    found = resolve(name, writer) if writer is not None else None
    keras3 = None
    if writer is not None and writer.generation is not None and differs_in_keras3(name, writer.generation):
        theirs = activation(name, Generation.KERAS3)
        keras3 = theirs.formula if theirs else None
    candidates: dict[str, str | None] = {}
    if writer is not None and writer.generation is None:
        for generation in writer.possible:
            one = activation(name, generation)
            candidates[str(generation)] = one.formula if one else None
    return ActivationUse(
        slot,
        name,
        str(fact.origin),
        found.formula if found else None,
        written_by,
        keras3,
        candidates if len(set(candidates.values())) > 1 else {},
    )


def _conversion(layer: RecurrentLayer, tensor: GateTensor) -> str | None:
    if layer.conversion is None:
        return None
    storage = str(layer.conversion)
    if layer.conversion == Storage.KERAS1 and any(note.startswith(KERAS1_TH_NOTE) for note in layer.notes):
        storage = "keras1-th"
    return CONVERSIONS.get((storage, str(tensor.part)))


def _storage(layer: RecurrentLayer) -> str | None:
    if layer.conversion == Storage.KERAS1:
        order = CELL_LAYOUTS[layer.cell].keras1_storage_order or layer.gates
        return (
            f"Keras 1 per-gate storage: one (W, U, b) array per gate, stored in the order {', '.join(order)}; "
            f"listed here in Keras 2's order {', '.join(layer.gates)}"
        )
    if layer.conversion == Storage.CUDNN:
        return (
            "CuDNN storage: cuDNN's block layout, converted exactly as Keras's loader converts it; the bias "
            "is two halves (input side, recurrent side), both kept as stored"
        )
    return None


def _slot_name(layer: RecurrentLayer) -> Any:
    def name(slot: str) -> str:
        value = getattr(layer.maths, slot).value
        return value if isinstance(value, str) else f"{slot}?"

    return name


def _sequence(layer: RecurrentLayer) -> str:
    fact = layer.maths.go_backwards
    if not fact.known:
        text = "go_backwards unknown (not stored in this file): t = 1 … T, or t = T … 1"
    else:
        text = SEQUENCE_BACKWARD if fact.value else SEQUENCE_FORWARD
    if time_major(layer):
        text += "; time_major: x and the outputs are (time, batch, features)"
    return text


def _output(layer: RecurrentLayer) -> str:
    stored = layer.config.get("return_sequences")
    if isinstance(stored, bool):
        return OUTPUT_SEQUENCES if stored else OUTPUT_LAST
    if layer.inferred:
        return "return_sequences not stored in this file (Keras's default is False: the last h_t only)"
    return OUTPUT_LAST  # a stored config without the key: Keras's default in every generation


def _bidirectional(layer: RecurrentLayer) -> dict[str, Any] | None:
    wrapper = layer.wrapper
    if wrapper is None:
        return None
    mode = layer.maths.merge_mode
    merge = MERGE_MODES.get(mode.value) if mode.known else None
    flipped = (
        "Keras flips this direction's outputs back into input time order before merging them"
        if layer.direction == "backward"
        else "merged with the backward direction's outputs, flipped back into input time order"
    )
    return {
        "wrapper": wrapper,
        "direction": str(layer.direction),
        "merge_mode": mode,
        "formula": merge.formula if merge else None,
        "how": flipped,
    }


def _meaning(layer: RecurrentLayer, part: str, gate: str) -> str:
    return f"{BLOCK_MEANINGS[part]} of the {CELL_LAYOUTS[layer.cell].gate_names[gate]} gate ({gate})"


def explain_layer(layer: RecurrentLayer) -> LayerExplanation:
    """Everything ``explain`` says about one layer."""
    reset_after = layer.maths.reset_after.value if layer.cell == "gru" else None
    form = bind(cell_equations(layer.cell, reset_after), set(layer.parts))
    slot_name = _slot_name(layer)
    lines = [
        EquationLine(
            target=SYMBOLS[equation.target],
            text=render(equation.expr, slot_name, form.convolution),
            meaning=equation.meaning,
            condition=equation.condition,
            expression=equation.expr,
            terms=tuple(dict.fromkeys(block_symbol(b.part, b.gate) for b in blocks_of(equation.expr))),
        )
        for equation in form.equations
    ]
    used: list[Block] = list(dict.fromkeys(b for eq in form.equations for b in blocks_of(eq.expr)))
    terms = []
    for block in used:
        tensor = layer.tensor(block.part, block.gate)
        terms.append(
            Term(
                symbol=block_symbol(block.part, block.gate),
                part=str(block.part),
                gate=block.gate,
                meaning=_meaning(layer, block.part, block.gate),
                stored_path=tensor.stored_path,
                selection=tensor.selection,
                shape=tensor.shape,
                dtype=tensor.dtype,
                sha256=tensor.sha256,
                conversion=_conversion(layer, tensor),
            )
        )
    slots = list(dict.fromkeys(s for eq in form.equations for s in slots_of(eq.expr)))
    facts = {
        key: fact
        for key, fact in layer.maths.facts().items()
        if key in ("use_bias", "go_backwards")
        or (key == "reset_after" and layer.cell == "gru")
        or (key == "merge_mode" and layer.wrapper is not None)
        or key in slots
    }
    notes = []
    if layer.maths.use_bias.value is False:
        notes.append("use_bias=False: the layer stores no bias, so no bias term appears")
    if layer.cell == "gru" and not layer.maths.reset_after.known:
        notes.append("reset_after is not stored in this file: the candidate n_t is one of the two forms shown")
    convolution = None
    if layer.cell == "conv_lstm":
        conv = layer.maths.convolution.value
        facts["convolution"] = layer.maths.convolution
        convolution = (
            f"∗ on the input side: a {conv.describe()}; on the recurrent side: strides 1, padding same"
            if conv is not None
            else "∗ is a convolution whose settings (strides, padding, dilation, data format) this file does not store"
        )
    writer = layer.maths.writer
    return LayerExplanation(
        name=layer.name,
        class_name=layer.class_name,
        cell=str(layer.cell),
        units=layer.units,
        direction=str(layer.direction) if layer.direction else None,
        written_by=writer.describe() if writer is not None else None,
        generation=str(writer.generation) if writer is not None and writer.generation is not None else None,
        title=form.title,
        form=form.name,
        equations=lines,
        terms=terms,
        activations=[_activation_use(layer, slot) for slot in slots],
        sequence=_sequence(layer),
        output=_output(layer),
        facts=facts,
        convolution=convolution,
        bidirectional=_bidirectional(layer),
        storage=_storage(layer),
        notes=notes,
        input_dim=layer.input_dim,
    )


def explain_artifact(artifact: Artifact, layers: list[RecurrentLayer] | None = None) -> list[LayerExplanation]:
    """The explanation of each of ``layers`` (default: every layer of the artifact)."""
    return [explain_layer(layer) for layer in (artifact.layers if layers is None else layers)]


def expression_dict(expr: Expr) -> dict[str, Any]:
    """An expression tree as JSON (``kernelsplit.explain/1``'s ``expression``)."""
    if isinstance(expr, Sym):
        return {"op": "symbol", "symbol": SYMBOLS[expr.key]}
    if isinstance(expr, Block):
        return {"op": "block", "symbol": block_symbol(expr.part, expr.gate), "part": expr.part, "gate": expr.gate}
    if isinstance(expr, Dot):
        left, right = expression_dict(expr.left), expression_dict(expr.block)
        return {"op": "dot", "side": expr.side, "left": left, "right": right}
    if isinstance(expr, Sum):
        return {"op": "sum", "terms": [expression_dict(t) for t in expr.terms]}
    if isinstance(expr, Hadamard):
        return {"op": "hadamard", "factors": [expression_dict(f) for f in expr.factors]}
    if isinstance(expr, Act):
        return {"op": "activation", "slot": expr.slot, "arg": expression_dict(expr.arg)}
    if isinstance(expr, OneMinus):
        return {"op": "one_minus", "arg": expression_dict(expr.arg)}
    raise TypeError(expr)
