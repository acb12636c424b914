"""``verify`` reporters: one per format, given the whole report once (Keras runs per batch of files)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from .. import load

if TYPE_CHECKING:
    from ...verify import VerifyReport

#: format name -> "module:Class" (imported only when used).
REPORTERS = {"text": "text:VerifyTextReporter", "json": "json:VerifyJsonReporter"}


class VerifyReporter:
    name: str

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file

    def write(self, report: VerifyReport, file: IO[str]) -> None:
        raise NotImplementedError


def reporter(name: str, file: IO[str] | None = None) -> VerifyReporter:
    cls: type[VerifyReporter] = load(REPORTERS, __name__, name)
    return cls(file)


def summary(report: VerifyReport) -> dict[str, object]:
    """Counts every format reports: files by status, layers, bit-exact layers, the worst forward error."""
    layers = [layer for f in report.files for layer in f.layers]
    errors = [layer.forward_error for layer in layers if layer.forward_error is not None]
    return {
        "files": len(report.files),
        "ok": sum(f.status == "ok" for f in report.files),
        "mismatch": sum(f.status == "mismatch" for f in report.files),
        "not_loaded": sum(f.status == "not-loaded" for f in report.files),
        "error": sum(f.status == "error" for f in report.files),
        "layers": len(layers),
        "bit_exact": sum(layer.bit_exact for layer in layers),
        "worst_forward_error": max(errors) if errors else None,
    }
