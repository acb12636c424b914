"""``inspect --output-format summary``: one line per recurrent layer.

Columns: file, layer, class (``*``: inferred from shapes, the file stores no config), units, gates,
parameters, max |w| and NaN/Inf counts. Output that is not a terminal gets one greppable line per
layer with its file first. On a terminal too narrow for that, each file becomes a heading and its
layers are indented under it without the file column (80 columns hold the real-world corpus).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ...discover import Skipped, skip_summary
from ...errors import Failure, KernelsplitError
from ..console import make_console, output_width
from ..layout import cell_width, file_text, paragraph
from . import InspectReporter

if TYPE_CHECKING:  # the model (numpy) loads only where artifacts are read, not in a batch's parent
    from ...model import Artifact, GateTensor, RecurrentLayer

_CELL_CLASS = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN", "conv_lstm": "ConvLSTM"}
HEADERS = ("file", "layer", "class", "units", "gates", "params", "max |w|", "NaN/Inf")
_RIGHT = {"units", "params", "max |w|", "NaN/Inf"}
#: Under file headings and still too wide: these columns go first (the class implies the gates).
_DROP_ORDER = ("gates", "params", "units")
_GAP = 2


@dataclass(frozen=True)
class SummaryRow:
    file: str
    layer: str
    cls: str
    units: str
    gates: str
    params: str
    max_abs: str
    bad: str

    @property
    def cells(self) -> tuple[str, ...]:
        return (self.file, self.layer, self.cls, self.units, self.gates, self.params, self.max_abs, self.bad)


def summary_row(path: str, layer: RecurrentLayer, tensors: list[GateTensor]) -> SummaryRow:
    stats = [t.stats for t in tensors]
    maxima = [s.abs_max for s in stats if s.abs_max is not None]
    nan, inf = sum(s.nan for s in stats), sum(s.inf for s in stats)
    cls = f"{_CELL_CLASS[layer.cell]}*" if layer.inferred else layer.class_name
    return SummaryRow(
        path,
        layer.name,
        cls,
        str(layer.units),
        "".join(sorted({t.gate for t in tensors}, key=layer.gates.index)),
        str(sum(math.prod(t.shape) for t in tensors)),  # from the shapes: .array would read the file
        f"{max(maxima):.4g}" if maxima else "-",
        f"{nan}/{inf}" if nan or inf else "0",
    )


class InspectSummaryReporter(InspectReporter):
    """Keeps one small row per layer (never the arrays) and prints the aligned table at the end."""

    name = "summary"

    def __init__(self, file: IO[str] | None = None, *, wide: bool = False) -> None:
        super().__init__(file, wide=wide)
        self.rows: list[SummaryRow] = []
        #: (path, why) of artifacts without a row.
        self.empty: list[tuple[str, str]] = []

    def add(self, artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]) -> None:
        if isinstance(artifact, Failure):
            return  # reported on stderr
        if not selected:
            self.empty.append((artifact.path, "no recurrent layers" if not artifact.layers else "no layer selected"))
        self.rows += [summary_row(artifact.path, layer, tensors) for layer, tensors in selected]

    def digest(self, artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]) -> Any:
        """The artifact's rows and its entry among those without rows (aligned once, at the end)."""
        self.add(artifact, selected)
        return self.rows, self.empty

    def add_digest(self, digest: Any) -> None:
        rows, empty = digest
        self.rows += rows
        self.empty += empty

    def finish(self, skipped: list[Skipped] | None = None, error: KernelsplitError | None = None) -> None:
        from rich.text import Text

        stream = self.file or sys.stdout
        console = make_console(stream)
        width = None if self.wide else output_width(stream)
        for line in render_rows(self.rows, width):
            console.print(line, soft_wrap=True)
        for path, why in self.empty:
            console.print(file_text(path) + Text(f": {why}", style="dim"), soft_wrap=True)
        listed, counted = skip_summary(list(skipped or []))
        for item in listed:
            console.print(
                Text("skipped ", style="dim") + file_text(item.path) + Text(f": {item.reason}", style="dim"),
                soft_wrap=True,
            )
        for text in counted:
            console.print(Text(text, style="dim"), soft_wrap=True)


def _line(cells: tuple[str, ...], widths: list[int], headers: tuple[str, ...], indent: int = 0) -> str:
    parts = []
    for cell, size, header in zip(cells, widths, headers, strict=True):
        pad = " " * (size - cell_width(cell))
        parts.append(pad + cell if header in _RIGHT else cell + pad)
    return " " * indent + (" " * _GAP).join(parts)


def render_rows(rows: list[SummaryRow], width: int | None) -> list[Any]:
    """Flat (file on every line) when it fits ``width``, else grouped under file headings."""
    from rich.text import Text

    if not rows:
        return []
    table = [row.cells for row in rows]
    widths = [max(cell_width(c) for c in column) for column in zip(HEADERS, *table, strict=True)]
    flat = sum(widths) + _GAP * (len(widths) - 1)
    if width is None or flat <= width:
        lines = [Text(_line(HEADERS, widths, HEADERS), style="bold")]
        for row in rows:
            text = _line(row.cells, widths, HEADERS)
            lines.append(file_text(text, style="red" if row.bad != "0" else None))
        return lines
    keep = list(range(1, len(HEADERS)))
    hidden: list[str] = []

    def inner_widths() -> list[int]:
        return [max(cell_width(c) for c in [HEADERS[i], *(r.cells[i] for r in rows)]) for i in keep]

    for column in _DROP_ORDER:  # still too wide under headings: drop columns, say which
        if 2 + sum(inner_widths()) + _GAP * (len(keep) - 1) <= width:
            break
        keep.remove(HEADERS.index(column))
        hidden.append(column)
    headers = tuple(HEADERS[i] for i in keep)
    inner = inner_widths()
    lines = [Text(_line(headers, inner, headers, indent=2), style="bold")]
    current = None
    for row in rows:
        if row.file != current:
            current = row.file
            lines.append(file_text(row.file, style="bold"))
        text = _line(tuple(row.cells[i] for i in keep), inner, headers, indent=2)
        lines.append(file_text(text, style="red" if row.bad != "0" else None))
    if hidden:
        note = f"(hidden to fit {width} columns: {', '.join(hidden)}; --wide shows them)"
        lines += paragraph(note, width, style="dim")
    return lines
