"""``explain --format json``: schema ``kernelsplit.explain/1`` (kernelsplit/schemas/explain-1.json).

Additive changes keep the version; renaming or removing a field bumps it.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from ..._version import __version__
from ...analysis.explain import LayerExplanation, expression_dict
from ...jsonutil import dumps_compact, error_object
from ...model import Artifact, Failure
from . import ExplainReporter

SCHEMA = "kernelsplit.explain/1"


def _fact(fact: Any) -> dict[str, Any]:
    value = fact.value.as_dict() if hasattr(fact.value, "as_dict") else fact.value
    return {"value": value, "origin": fact.origin}


def layer_dict(ex: LayerExplanation) -> dict[str, Any]:
    bi = ex.bidirectional
    return {
        "name": ex.name,
        "class_name": ex.class_name,
        "cell": ex.cell,
        "units": ex.units,
        "direction": ex.direction,
        "input_dim": ex.input_dim,
        "written_by": ex.written_by,
        "generation": ex.generation,
        "form": ex.form,
        "title": ex.title,
        "equations": [
            {
                "target": line.target,
                "text": line.text,
                "meaning": line.meaning,
                "condition": line.condition,
                "terms": list(line.terms),
                "expression": expression_dict(line.expression),
            }
            for line in ex.equations
        ],
        "terms": [
            {
                "symbol": term.symbol,
                "part": term.part,
                "gate": term.gate,
                "meaning": term.meaning,
                "stored_path": term.stored_path,
                "selection": term.selection,
                "source": term.stored_path + term.selection,
                "shape": list(term.shape),
                "dtype": term.dtype,
                "sha256": term.sha256,
                "conversion": term.conversion,
            }
            for term in ex.terms
        ],
        "activations": [
            {
                "slot": use.slot,
                "name": use.name,
                "origin": use.origin,
                "formula": use.formula,
                "written_by": use.written_by,
                "keras3_formula": use.keras3_formula,
                "candidates": use.candidates,
            }
            for use in ex.activations
        ],
        "facts": {key: _fact(fact) for key, fact in ex.facts.items()},
        "sequence": ex.sequence,
        "output": ex.output,
        "convolution": ex.convolution,
        "bidirectional": None
        if bi is None
        else {
            "wrapper": bi["wrapper"],
            "direction": bi["direction"],
            "merge_mode": _fact(bi["merge_mode"]),
            "formula": bi["formula"],
            "how": bi["how"],
        },
        "storage": ex.storage,
        "notes": list(ex.notes),
    }


class ExplainJsonReporter(ExplainReporter):
    name = "json"

    def __init__(self, file: IO[str] | None = None) -> None:
        super().__init__(file)
        self.artifacts: list[dict[str, Any]] = []

    def add(self, artifact: Artifact | Failure, explanations: list[LayerExplanation]) -> None:
        if isinstance(artifact, Failure):
            self.artifacts.append(
                {
                    "path": artifact.path,
                    "format": "unknown",
                    "keras_version": None,
                    "written_by": None,
                    "layers": [],
                    "error": error_object(artifact.error),
                }
            )
            return
        self.artifacts.append(
            {
                "path": artifact.path,
                "format": artifact.format,
                "keras_version": artifact.keras_version,
                "written_by": artifact.writer.describe() if artifact.writer else None,
                "layers": [layer_dict(ex) for ex in explanations],
                "error": None,
            }
        )

    def finish(self) -> None:
        document = {"schema": SCHEMA, "kernelsplit_version": __version__, "artifacts": self.artifacts}
        (self.file or sys.stdout).write(dumps_compact(document) + "\n")
