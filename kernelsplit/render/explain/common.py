"""What the explain formats share: escaping names from files, shapes, facts and activation sentences."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ...analysis.explain import ActivationUse

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(text: object) -> str:
    """A name from a file, with control characters (terminal escapes, bidi overrides) written as ``\\xNN``."""
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", str(text)
    )


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
