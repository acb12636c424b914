"""The report's "Maths" section of a layer: what the cell computes, from the model's ``CellMaths``.

Two parts: the explanation text of ``kernelsplit explain`` for the layer (:func:`explain_text`, the
seam where that command's output is embedded, preformatted and escaped), and always the table of
facts the model carries: each setting, its value, the formula that value means for the Keras that
wrote the file, and where the fact came from (config, class, stored tensors, generation default,
assumed).
"""

from __future__ import annotations

from ...maths import resolve
from ...model import Artifact, RecurrentLayer
from .html import esc, table

#: Facts that do not apply to a cell kind when unknown (shown when a file does state them).
_NOT_IN = {
    "lstm": {"reset_after"},
    "conv_lstm": {"reset_after"},
    "simple_rnn": {"reset_after", "recurrent_activation"},
    "gru": set(),
}


def explain_text(artifact: Artifact, layer: RecurrentLayer) -> str | None:
    """The ``kernelsplit explain`` text (markdown or plain) of ``layer``, or None where there is none.

    This is the one place the report asks for it: return that command's rendering of the layer
    here and the report shows it above the facts table, escaped and preformatted. Until explain
    provides it, the facts table below is the whole section.
    """
    return None


def maths_section(artifact: Artifact, layer: RecurrentLayer) -> str:
    maths = layer.maths
    out = []
    explained = explain_text(artifact, layer)
    if explained:
        out.append(f'<pre class="explain">{esc(explained, limit=200_000)}</pre>')
    written = maths.writer.describe() if maths.writer else "unknown"
    out.append(f'<p class="meta">Activation names resolved for the Keras that wrote the file: {esc(written)}.</p>')
    rows = []
    for name, fact in maths.facts().items():
        if fact.origin is None and (name == "merge_mode" or name in _NOT_IN.get(str(layer.cell), set())):
            continue
        formula = ""
        if name.endswith("activation") and isinstance(fact.value, str) and maths.writer is not None:
            found = resolve(fact.value, maths.writer)
            formula = found.formula if found else "unknown to kernelsplit"
        value = "unknown" if fact.origin is None else str(fact.value)
        origin = str(fact.origin) if fact.origin is not None else "not stored in the file"
        rows.append([f"<code>{esc(name)}</code>", esc(value), esc(formula), esc(origin)])
    out.append(table(("setting", "value", "computes", "origin"), rows, "maths"))
    return "".join(out)
