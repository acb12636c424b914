"""``explain`` for terminals and CI logs: plain lines, every name from the file escaped."""

from __future__ import annotations

import sys
from typing import IO

from ...analysis.explain import ActivationUse, LayerExplanation
from ...model import Artifact, Failure
from . import ExplainReporter
from .common import activation_sentence, conversions, fact_text, safe, shape_text


class ExplainTextReporter(ExplainReporter):
    name = "text"

    def add(self, artifact: Artifact | Failure, explanations: list[LayerExplanation]) -> None:
        if isinstance(artifact, Failure):
            return  # already reported on stderr
        out = self.file or sys.stdout
        version = f", Keras {safe(artifact.keras_version)}" if artifact.keras_version else ""
        out.write(f"{safe(artifact.path)}  ({artifact.format}{version})\n")
        if not artifact.layers:
            out.write("  no recurrent layers\n")
        for explanation in explanations:
            out.write("\n")
            write_layer(out, explanation)
        out.write("\n")


def write_layer(out: IO[str], ex: LayerExplanation) -> None:
    direction = f"  direction={ex.direction}" if ex.direction else ""
    writer = f"  written by {safe(ex.written_by)}" if ex.written_by else ""
    out.write(f"{safe(ex.name)}  {safe(ex.class_name)}  units={ex.units}{direction}{writer}\n")
    out.write(f"  cell form: {ex.title}\n")
    width = max(len(_lhs(line.condition, line.target) + line.text) for line in ex.equations) + 3
    for line in ex.equations:
        equation = f"{_lhs(line.condition, line.target)}{line.text}"
        out.write(f"    {equation.ljust(width + 3)}{line.meaning}\n")
    if ex.convolution:
        out.write(f"  {ex.convolution}\n")
    out.write(f"  sequence  {ex.sequence}; {ex.output}\n")
    if ex.bidirectional:
        bi = ex.bidirectional
        merge = f": {bi['formula']}" if bi["formula"] else ""
        out.write(
            f"  bidirectional  {bi['direction']} direction of {safe(bi['wrapper'])}: {bi['how']}; "
            f"merge_mode {fact_text(bi['merge_mode'])}{merge}\n"
        )
    if ex.storage:
        out.write(f"  storage  {ex.storage}\n")
        for part, how in conversions(ex):
            out.write(f"    {part}: {how}\n")
    out.write("  terms\n")
    symbol_width = max((len(term.symbol) for term in ex.terms), default=0)
    for term in ex.terms:
        out.write(
            f"    {term.symbol.ljust(symbol_width)}  {safe(term.stored_path)}{safe(term.selection) or ' (whole array)'}"
            f"  {shape_text(term.shape)}  {term.dtype}  sha256 {term.sha256[:12]}\n"
        )
    out.write("  activations\n")
    for use in ex.activations:
        out.write(f"    {_activation(use)}\n")
    facts = "  ".join(f"{key} {fact_text(fact)}" for key, fact in ex.facts.items() if key not in _SLOTS)
    if facts:
        out.write(f"  facts  {facts}\n")
    for note in ex.notes:
        out.write(f"  note: {safe(note)}\n")


_SLOTS = ("activation", "recurrent_activation", "convolution")


def _lhs(condition: str | None, target: str) -> str:
    return f"[{condition}] {target} = " if condition else f"{target} = "


def _activation(use: ActivationUse) -> str:
    return activation_sentence(use, code=lambda text: text)
