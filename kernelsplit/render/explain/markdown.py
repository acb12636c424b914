"""``explain --format markdown``: a section per layer to paste into a design doc.

Equations go in a fenced ``text`` block (they hold no name from the file); names and paths from the
file appear only in table cells and inline code, escaped for both.
"""

from __future__ import annotations

import sys

from ...analysis.explain import LayerExplanation
from ...model import Artifact, Failure
from ..markdown import cell
from . import ExplainReporter
from .common import activation_sentence, conversions, fact_text, safe, shape_text


def code(text: object) -> str:
    """Inline code that survives backticks in the text (CommonMark: a longer fence, padded)."""
    value = safe(text).replace("\n", " ")
    fence = "`" * (max((len(m) for m in _backtick_runs(value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _backtick_runs(text: str) -> list[str]:
    runs, current = [], ""
    for char in text:
        if char == "`":
            current += char
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


class ExplainMarkdownReporter(ExplainReporter):
    name = "markdown"

    def add(self, artifact: Artifact | Failure, explanations: list[LayerExplanation]) -> None:
        out = self.file or sys.stdout
        if isinstance(artifact, Failure):
            out.write(f"## {code(artifact.path)}\n\nCould not be read: {cell(safe(artifact.error.message))}\n\n")
            return
        version = f", Keras {safe(artifact.keras_version)}" if artifact.keras_version else ""
        out.write(f"## {code(artifact.path)} ({artifact.format}{version})\n\n")
        if not artifact.layers:
            out.write("No recurrent layers.\n\n")
        for explanation in explanations:
            out.write(layer_markdown(explanation))


def layer_markdown(ex: LayerExplanation) -> str:
    """One layer's section: heading, equations, sequence, terms table, activations, notes."""
    lines = []
    direction = f", {ex.direction} direction" if ex.direction else ""
    lines.append(f"### {code(ex.name)}: {cell(safe(ex.class_name))}, {ex.units} units{direction}\n")
    written = f"Written by {cell(safe(ex.written_by))}. " if ex.written_by else ""
    lines.append(f"{written}Cell form: **{ex.title}**.\n")
    lines.append("```text")
    equations = [
        (f"[{line.condition}] " if line.condition else "") + f"{line.target} = {line.text}" for line in ex.equations
    ]
    width = max(len(text) for text in equations)
    for text, line in zip(equations, ex.equations, strict=True):
        lines.append(f"{text.ljust(width)}    # {line.meaning}")
    lines.append("```\n")
    if ex.convolution:
        lines.append(f"{ex.convolution}.\n")
    lines.append(f"Sequence: {ex.sequence}; {ex.output}.\n")
    if ex.bidirectional:
        bi = ex.bidirectional
        merge = f": `{bi['formula']}`" if bi["formula"] else ""
        lines.append(
            f"Bidirectional {code(bi['wrapper'])}, {bi['direction']} direction: {bi['how']}; merge_mode "
            f"{fact_text(bi['merge_mode'])}{merge}.\n"
        )
    if ex.storage:
        lines.append(f"Storage: {ex.storage}.\n")
        for part, how in conversions(ex):
            lines.append(f"- `{part}`: {how}.")
        lines.append("")
    lines.append("| term | meaning | stored tensor | slice | shape | dtype | sha256 |")
    lines.append("|---|---|---|---|---|---|---|")
    for term in ex.terms:
        meaning = term.meaning
        selection = code(term.selection) if term.selection else "whole array"
        lines.append(
            f"| `{term.symbol}` | {cell(meaning)} | {cell(code(term.stored_path))} | {cell(selection)} | "
            f"{shape_text(term.shape)} | {term.dtype} | `{term.sha256[:16]}…` |"
        )
    lines.append("")
    lines.append("Activations:\n")
    for use in ex.activations:
        lines.append(f"- {activation_sentence(use, code=lambda text: f'`{text}`')}.")
    facts = [
        f"`{key}` {fact_text(fact)}"
        for key, fact in ex.facts.items()
        if key not in ("activation", "recurrent_activation", "convolution")
    ]
    if facts:
        lines.append(f"\nFacts: {'; '.join(facts)}.")
    for note in ex.notes:
        lines.append(f"\n> {cell(safe(note))}")
    return "\n".join(lines) + "\n\n"
