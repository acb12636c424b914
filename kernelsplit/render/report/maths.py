"""The report's "Maths" section of a layer: what the cell computes.

Two parts: the text of ``kernelsplit explain`` for the layer (:func:`explain_text`: the equations
with every term bound to its stored tensor, preformatted and escaped), and always the table of facts
the model carries in ``CellMaths``: each setting, its value, the formula that value means for the
Keras that wrote the file, and where the fact came from (config, class, stored tensors, generation
default, assumed).
"""

from __future__ import annotations

from ...maths import resolve
from ...model import Artifact, RecurrentLayer
from .html import esc, esc_lines, table

#: Facts that do not apply to a cell kind when unknown (shown when a file does state them).
_NOT_IN = {
    "lstm": {"reset_after"},
    "conv_lstm": {"reset_after"},
    "simple_rnn": {"reset_after", "recurrent_activation"},
    "gru": set(),
}


def explain_text(artifact: Artifact, layer: RecurrentLayer) -> str | None:
    """``kernelsplit explain``'s text for ``layer`` (its equations, every term bound to the file,
    activations and facts), or None where explain has nothing to say.

    The one place the report asks for it: the report shows it escaped and preformatted, above the
    facts table. The text format is used (aligned for monospace); the artifact's header line is
    left out, the report's section already names the file.
    """
    from ...errors import KernelsplitError
    from ..explain import render

    try:
        text = render(artifact, "text", [layer])
    except KernelsplitError:
        return None
    lines = text.splitlines()
    if lines and lines[0].startswith(artifact.path):
        lines = lines[1:]
    return "\n".join(lines).strip("\n") or None


def maths_section(artifact: Artifact, layer: RecurrentLayer) -> str:
    maths = layer.maths
    out = []
    explained = explain_text(artifact, layer)
    if explained:
        out.append(f'<pre class="explain">{esc_lines(explained)}</pre>')
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
