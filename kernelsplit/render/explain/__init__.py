"""``explain`` reporters: one per format, fed each artifact with its layers' explanations.

``render(artifact, fmt)`` returns one artifact's explanation as a string, for reuse outside the
command line (an HTML report embeds the markdown).
"""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING

from .. import load

if TYPE_CHECKING:
    from ...analysis.explain import LayerExplanation
    from ...model import Artifact, Failure, RecurrentLayer

#: format name -> "module:Class" (imported only when used).
REPORTERS = {
    "text": "text:ExplainTextReporter",
    "markdown": "markdown:ExplainMarkdownReporter",
    "json": "json:ExplainJsonReporter",
}


class ExplainReporter:
    name: str

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file

    def add(self, artifact: Artifact | Failure, explanations: list[LayerExplanation]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """End the output (nothing to do for formats that render as they go)."""


def reporter(name: str, file: IO[str] | None = None) -> ExplainReporter:
    cls: type[ExplainReporter] = load(REPORTERS, __name__, name)
    return cls(file)


def render(artifact: Artifact, fmt: str = "markdown", layers: list[RecurrentLayer] | None = None) -> str:
    """One artifact's explanation (every layer, or ``layers``) in ``fmt`` (text, markdown or json)."""
    from ...analysis.explain import explain_artifact

    buffer = io.StringIO()
    chosen = reporter(fmt, buffer)
    chosen.add(artifact, explain_artifact(artifact, layers))
    chosen.finish()
    return buffer.getvalue()
