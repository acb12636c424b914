"""``inspect --format json``: schema ``kernelsplit.inspect/1`` (kernelsplit/schemas/inspect-1.json).

Additive changes keep the version; renaming or removing a field bumps it.
"""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any

from ..._version import __version__
from ...discover import Skipped
from ...errors import Failure, KernelsplitError
from ...jsonutil import dumps_compact, error_object, jsonable
from . import InspectReporter

if TYPE_CHECKING:  # the model (numpy) loads only where artifacts are read, not in a batch's parent
    from ...model import Artifact, GateTensor, RecurrentLayer

SCHEMA = "kernelsplit.inspect/1"


def plain_json(record: dict[str, Any]) -> dict[str, Any]:
    """The record as exactly what JSON gives back: plain str/int/float, no enum or numpy scalar
    (so unpickling it in a batch's parent needs neither the model nor numpy)."""
    import json

    loaded: dict[str, Any] = json.loads(dumps_compact(record))
    return loaded


def tensor_dict(tensor: GateTensor) -> dict[str, Any]:
    return {
        "part": tensor.part,
        "gate": tensor.gate,
        "shape": list(tensor.shape),
        "dtype": tensor.dtype,
        "sha256": tensor.sha256,
        "source": tensor.source,
        "stored_path": tensor.stored_path,
        "selection": tensor.selection,
        "stats": tensor.stats.as_dict(),
    }


def layer_dict(layer: RecurrentLayer, tensors: list[GateTensor]) -> dict[str, Any]:
    return {
        "name": layer.name,
        "class_name": layer.class_name,
        "cell": layer.cell,
        "units": layer.units,
        "direction": layer.direction,
        "inferred": layer.inferred,
        "gates": list(layer.gates),
        "input_dim": layer.input_dim,
        "conversion": layer.conversion,
        "config": jsonable(layer.config),
        "notes": list(layer.notes),
        "mismatches": [{"key": m.key, "config": m.config, "stored": m.stored} for m in layer.mismatches],
        "binding": {"method": layer.binding.method, "where": layer.binding.where} if layer.binding else None,
        "keras_names": list(layer.keras_names),
        "maths": layer.maths.as_dict(),
        "tensors": [tensor_dict(t) for t in tensors],
    }


def artifact_dict(
    artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]
) -> dict[str, Any]:
    if isinstance(artifact, Failure):
        return {
            "path": artifact.path,
            "format": "unknown",
            "keras_version": None,
            "backend": None,
            "executable_layers": [],
            "notes": [],
            "layers": [],
            "error": error_object(artifact.error),
        }
    return {
        "path": artifact.path,
        "format": artifact.format,
        "keras_version": artifact.keras_version,
        "backend": artifact.backend,
        "generation": artifact.writer.generation if artifact.writer else None,
        "executable_layers": list(artifact.executable_layers),
        "notes": list(artifact.notes),
        "layers": [layer_dict(layer, tensors) for layer, tensors in selected],
        "error": None,
    }


class InspectJsonReporter(InspectReporter):
    """Keeps each artifact as its compact JSON text (never its arrays) until the one document is
    written; a worker's digest is that text, so no process encodes a record twice."""

    name = "json"

    def __init__(self, file: IO[str] | None = None, *, wide: bool = False) -> None:
        super().__init__(file, wide=wide)
        self.artifacts: list[str] = []

    def add(self, artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]) -> None:
        self.add_digest(self.digest(artifact, selected))

    def digest(self, artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]) -> Any:
        return dumps_compact(artifact_dict(artifact, selected))

    def add_digest(self, digest: Any) -> None:
        self.artifacts.append(digest)

    def finish(self, skipped: list[Skipped] | None = None, error: KernelsplitError | None = None) -> None:
        rest = {
            "skipped": [{"path": s.path, "kind": s.kind, "reason": s.reason} for s in skipped or []],
            "error": error_object(error) if error is not None else None,
        }
        head = dumps_compact({"schema": SCHEMA, "kernelsplit_version": __version__})[:-1]
        tail = dumps_compact(rest)[1:]
        (self.file or sys.stdout).write(f'{head},"artifacts":[{",".join(self.artifacts)}],{tail}\n')


class InspectJsonlReporter(InspectReporter):
    """``--format jsonl``: one line per artifact, written as soon as it (and every earlier one) is
    read. Each line is one ``artifacts[]`` entry of ``kernelsplit.inspect/1``."""

    name = "jsonl"

    def add(self, artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]) -> None:
        self.add_digest(self.digest(artifact, selected))

    def digest(self, artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]) -> Any:
        return dumps_compact(artifact_dict(artifact, selected))

    def add_digest(self, digest: Any) -> None:
        stream = self.file or sys.stdout
        stream.write(digest + "\n")
        stream.flush()
