"""Fill in what a file does not store about a layer's maths, when (and only when) the user chooses.

A weights-only file (legacy ``save_weights``, ``.weights.h5``, TF checkpoints) stores no config:
its layers' activations, ``go_backwards`` and (for a GRU without bias) ``reset_after`` are unknown.
Exports and the forward pass refuse such layers unless the user picks an :class:`Assumption`;
the choice is recorded as origin ``assumed`` on every fact it fills, and never replaces a fact
the file does store. ``generation-default`` means the default of the Keras that wrote the file,
which is refused too when the file does not say which Keras that was.
"""

from __future__ import annotations

from dataclasses import replace

from .._compat import StrEnum
from ..maths import DEFAULT_ACTIVATION, default_recurrent_activation, default_reset_after
from ..model import CellMaths, Direction, Fact, Origin, RecurrentLayer


class Assumption(StrEnum):
    """``--assume-activations``: the recurrent activation of layers whose file stores none."""

    GENERATION_DEFAULT = "generation-default"
    SIGMOID = "sigmoid"
    HARD_SIGMOID = "hard_sigmoid"


def assume(layer: RecurrentLayer, choice: Assumption | str) -> RecurrentLayer:
    """``layer`` with its unknown maths filled in as ``choice`` says (known facts are kept)."""
    choice = Assumption(choice)
    maths = layer.maths
    writer = maths.writer
    filled: dict[str, Fact[object]] = {}
    if not maths.activation.known:
        filled["activation"] = Fact(DEFAULT_ACTIVATION, Origin.ASSUMED)
    if not maths.recurrent_activation.known and layer.cell != "simple_rnn":
        if choice == Assumption.GENERATION_DEFAULT:
            value = default_recurrent_activation(layer.cell, writer) if writer else None
        else:
            value = str(choice)
        if value is not None:
            filled["recurrent_activation"] = Fact(value, Origin.ASSUMED)
    if not maths.go_backwards.known:
        filled["go_backwards"] = Fact(layer.direction == Direction.BACKWARD, Origin.ASSUMED)
    if layer.cell == "gru" and not maths.reset_after.known and writer is not None:
        reset_after = default_reset_after(writer)
        if reset_after is not None:
            filled["reset_after"] = Fact(reset_after, Origin.ASSUMED)
    if not filled:
        return layer
    said = ", ".join(f"{key}={fact.value}" for key, fact in filled.items())
    note = f"not stored in the file, assumed (--assume-activations {choice}): {said}"
    new_maths: CellMaths = replace(maths, **filled)  # type: ignore[arg-type]
    return replace(layer, maths=new_maths, notes=[*layer.notes, note])
