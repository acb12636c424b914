"""``verify --format json``: schema ``kernelsplit.verify/1`` (kernelsplit/schemas/verify-1.json)."""

from __future__ import annotations

from typing import IO, Any

from ..._version import __version__
from ...jsonutil import dumps_compact, number
from ...verify import FileCheck, LayerCheck, VerifyReport
from . import VerifyReporter, summary

SCHEMA = "kernelsplit.verify/1"


def _layer(layer: LayerCheck) -> dict[str, Any]:
    return {
        "keras_layer": layer.keras_layer,
        "class_name": layer.class_name,
        "kernelsplit_layers": list(layer.kernelsplit_layers),
        "blocks": layer.blocks,
        "bit_exact": layer.bit_exact,
        "differences": [
            {
                "layer": d.layer,
                "part": d.part,
                "gate": d.gate,
                "kernelsplit_sha256": d.kernelsplit_sha256,
                "keras_sha256": d.keras_sha256,
            }
            for d in layer.differences
        ],
        "forward_error": number(layer.forward_error),
        "tolerance": number(layer.tolerance),
        "compute_dtype": layer.compute_dtype,
        "ok": layer.ok,
        "problems": list(layer.problems),
    }


def _file(checked: FileCheck) -> dict[str, Any]:
    return {
        "path": checked.path,
        "status": checked.status,
        "framework": checked.framework,
        "versions": dict(checked.versions),
        "reason": checked.reason,
        "layers": [_layer(layer) for layer in checked.layers],
        "unmatched": list(checked.unmatched),
    }


class VerifyJsonReporter(VerifyReporter):
    name = "json"

    def write(self, report: VerifyReport, file: IO[str]) -> None:
        document = {
            "schema": SCHEMA,
            "kernelsplit_version": __version__,
            "seed": report.seed,
            "exit_code": int(report.exit_code),
            "summary": summary(report),
            "files": [_file(f) for f in report.files],
        }
        file.write(dumps_compact(document) + "\n")
