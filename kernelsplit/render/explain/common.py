"""What the explain formats share: escaping names from files, shapes, facts and activation sentences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...analysis.explain import ActivationUse
from ..safe import terminal_text


def safe(text: object) -> str:
    """A name from a file, with control characters (terminal escapes, bidi overrides) written as
    ``\\xNN``: the one escaping function of every human output (render/safe.py)."""
    return terminal_text(text)


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape) or "scalar"


def fact_text(fact: Any) -> str:
    """``True (config)``, ``unknown``: a maths fact and where it came from."""
    if not fact.known:
        return "unknown (not stored in this file)"
    value = fact.value.describe() if hasattr(fact.value, "describe") else fact.value
    return f"{value} ({fact.origin})"


def activation_sentence(use: ActivationUse, code: Callable[[str], str]) -> str:
    """``recurrent_activation hard_sigmoid (config) = clip(0.2·x + 0.5, 0, 1) in Keras 2.1.5; Keras 3 ...``."""
    if not use.known:
        return f"{use.slot} unknown: the file does not store it (a weights-only file)"
    assert use.name is not None
    head = f"{use.slot} {code(safe(use.name))} ({use.origin})"
    if use.formula:
        sentence = f"{head} = {code(use.formula)} in {safe(use.written_by)}"
    elif use.candidates:
        options = "; ".join(
            f"{generation}: {formula or 'not computable'}" for generation, formula in use.candidates.items()
        )
        sentence = f"{head}: which Keras wrote the file is not recorded, and they disagree ({options})"
    else:
        sentence = f"{head}: not a function kernelsplit can compute (custom or unknown name)"
    if use.keras3_formula:
        sentence += f"; Keras 3 would load this layer and compute {code(use.keras3_formula)} instead"
    return sentence


def conversions(ex: Any) -> list[tuple[str, str]]:
    """(part, how its stored slices become Keras blocks), once per part, for CuDNN and Keras 1 storage."""
    seen: dict[str, str] = {}
    for term in ex.terms:
        if term.conversion and term.part not in seen:
            seen[term.part] = term.conversion
    return list(seen.items())
