"""``inspect`` for humans: one table per recurrent layer, one row per (part, gate).

The table fits the terminal: when its natural width is wider, columns are dropped or abbreviated in
a fixed priority order (``COLUMN_STEPS``: L2 norm first, part and gate never) and a line says which;
``--wide`` keeps every column. A number is never cut (rich would print ``-0.15…``). Output that is
not a terminal keeps every column at its natural width. The layer's title, its stored tensors and
its maths are lines of their own: paths are never wrapped, the maths line wraps at spaces.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from ...discover import Skipped, skip_summary
from ...errors import Failure, KernelsplitError
from ...layouts import CELL_LAYOUTS
from ..layout import file_text, paragraph
from . import InspectReporter

if TYPE_CHECKING:  # the model (numpy) loads only where artifacts are read, not in a batch's parent
    from ...model import Artifact, GateTensor, RecurrentLayer

#: (header, justify) of every column, in display order.
COLUMNS = (
    ("part", "left"),
    ("gate", "left"),
    ("slice", "left"),
    ("shape", "left"),
    ("dtype", "left"),
    ("min", "right"),
    ("max", "right"),
    ("mean", "right"),
    ("std", "right"),
    ("abs max", "right"),
    ("L2", "right"),
    ("zeros", "right"),
    ("NaN", "right"),
    ("Inf", "right"),
)
#: The column ``inspect --histogram`` adds (never dropped to fit: the user asked for it).
HISTOGRAM_COLUMN = ("histogram min…max", "left")
#: Characters (bins) of that column's sparkline.
HISTOGRAM_WIDTH = 12
#: How a table narrows to fit, step by step: drop a column, or show gates by their letter only.
COLUMN_STEPS = ("L2", "zeros", "gate names", "std", "mean", "dtype", "min/max", "shape", "slice")
#: Rich's cell separator (" │ ") between columns.
_SEPARATOR = 3


def _num(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _stored_at(tensors: list[GateTensor]) -> list[str]:
    """One line per part naming its stored tensor (Keras 1 stores one per gate)."""
    paths: dict[str, list[str]] = {}
    for tensor in tensors:
        known = paths.setdefault(tensor.part, [])
        if tensor.stored_path not in known:
            known.append(tensor.stored_path)
    return [f"{part}: {', '.join(found)}" for part, found in paths.items()]


def fit_columns(
    cells: list[list[str]], width: int | None, columns: tuple[tuple[str, str], ...] = COLUMNS
) -> tuple[list[int], bool, list[str]]:
    """(indexes of the columns kept, whether gates show their names, the steps taken) so that the
    table of ``cells`` (first row: headers) fits ``width`` (None: everything)."""
    headers = [h for h, _ in columns]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    short_gate = max([len("gate"), *(len(row[1].split(" ")[0]) for row in cells[1:])])
    kept = list(range(len(columns)))
    names = True
    taken: list[str] = []

    def total() -> int:
        sizes = [(widths[i] if i != 1 or names else short_gate) for i in kept]
        return sum(sizes) + _SEPARATOR * (len(kept) - 1)

    for step in COLUMN_STEPS:
        if width is None or total() <= width:
            break
        if step == "gate names":
            names = False
        else:
            for header in step.split("/"):
                kept.remove(headers.index(header))
        taken.append(step)
    return kept, names, taken


class InspectTextReporter(InspectReporter):
    """Prints each artifact as soon as it is read, so a batch run holds one model at a time."""

    name = "text"

    def __init__(self, file: IO[str] | None = None, *, wide: bool = False) -> None:
        import sys

        from ..console import make_console, output_width

        super().__init__(file, wide=wide)
        stream = file or sys.stdout
        self.console = make_console(stream)
        self.width = None if wide else output_width(stream)
        self._last_note: list[str] = []
        #: Add a sparkline histogram column (``inspect --histogram``).
        self.histogram = False

    def _print(self, line: Any) -> None:
        self.console.print(line, soft_wrap=True)

    def add(self, artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]) -> None:
        from rich.text import Text

        if isinstance(artifact, Failure):
            return  # already reported on stderr
        version = f", Keras {artifact.keras_version}" if artifact.keras_version else ""
        self._print(file_text(artifact.path, style="bold") + Text(f"  ({artifact.format}{version})"))
        if not artifact.layers:
            total = f" among {artifact.total_layers} layers" if artifact.total_layers is not None else ""
            self._print(Text(f"  no recurrent layers{total}"))
        for note in artifact.notes:
            for line in paragraph(f"note: {note}", self.width, indent=2, style="dim"):
                self._print(line)
        if artifact.executable_layers:
            text = "executable layers (never run by kernelsplit): " + ", ".join(artifact.executable_layers)
            for line in paragraph(text, self.width, indent=2, style="yellow"):
                self._print(line)
        for layer, tensors in selected:
            self._layer(layer, tensors)
        self._print(Text(""))

    def _layer(self, layer: RecurrentLayer, tensors: list[GateTensor]) -> None:
        from rich.table import Table
        from rich.text import Text

        direction = f"  direction={layer.direction}" if layer.direction else ""
        inferred = "  [inferred from shapes]" if layer.inferred else ""
        conversion = f"  converted from {layer.conversion}" if layer.conversion else ""
        title = file_text(layer.name, style="bold") + Text(
            f"  {layer.class_name}  cell={layer.cell}  units={layer.units}{direction}{inferred}{conversion}"
        )
        self._print(title)
        layout = CELL_LAYOUTS[layer.cell]
        rows = [_row(tensor, layout.gate_names[tensor.gate]) for tensor in tensors]
        columns: tuple[tuple[str, str], ...] = COLUMNS
        if self.histogram:
            from ..plot.data import sparkline

            columns += (HISTOGRAM_COLUMN,)
            for (row, _), tensor in zip(rows, tensors, strict=True):
                row.append(sparkline(tensor.array, tensor.stats.min, tensor.stats.max, width=HISTOGRAM_WIDTH))
        cells = [[h for h, _ in columns], *(row for row, _ in rows)]
        kept, names, taken = fit_columns(cells, self.width, columns)
        table = Table(show_edge=False, pad_edge=False, header_style="bold")
        natural = _SEPARATOR * (len(kept) - 1)
        for index in kept:
            header, justify = columns[index]
            width = max(len(row[index]) if (index != 1 or names) else len(row[index].split(" ")[0]) for row in cells)
            natural += width
            table.add_column(header, justify=justify, no_wrap=True, min_width=width)  # type: ignore[arg-type]
        for row, bad in rows:
            shown = [row[i] if (i != 1 or names) else row[i].split(" ")[0] for i in kept]
            table.add_row(*shown, style="red" if bad else None)
        # Never let rich squeeze a column (it would cut digits): at worst the terminal wraps the line.
        width = self.console.width
        self.console.width = max(width, natural)
        try:
            self.console.print(table, crop=False)
        finally:
            self.console.width = width
        hidden = [header for step in taken if step != "gate names" for header in step.split("/")]
        if hidden and hidden != self._last_note:
            self._last_note = hidden
            note = (
                f"(hidden to fit {self.width} columns: {', '.join(hidden)}"
                + ("; gates by letter" if not names else "")
                + "; --wide shows every column)"
            )
            for line in paragraph(note, self.width, style="dim"):
                self._print(line)
        for line in _stored_at(tensors):
            self._print(file_text(line, style="dim"))
        for line in paragraph(_maths_line(layer), self.width, style="dim"):
            self._print(line)
        for note in layer.notes:
            for line in paragraph(f"note: {note}", self.width, style="dim"):
                self._print(line)

    def finish(self, skipped: list[Skipped] | None = None, error: KernelsplitError | None = None) -> None:
        from rich.text import Text

        listed, counted = skip_summary(list(skipped or []))
        for item in listed:
            self._print(Text("skipped ", style="dim") + file_text(item.path) + Text(f": {item.reason}", style="dim"))
        for text in counted:
            self._print(Text(text, style="dim"))


def _row(tensor: GateTensor, gate_name: str) -> tuple[list[str], bool]:
    stats = tensor.stats
    zeros = stats.zeros
    cells = [
        tensor.part,
        f"{tensor.gate} ({gate_name})",
        tensor.selection or "(whole)",
        "×".join(str(n) for n in tensor.shape),
        tensor.dtype,
        _num(stats.min),
        _num(stats.max),
        _num(stats.mean),
        _num(stats.std),
        _num(stats.abs_max),
        _num(stats.l2),
        f"{zeros:.1%}" if zeros else "0",
        _num(stats.nan),
        _num(stats.inf),
    ]
    return cells, bool(stats.nan or stats.inf)


def _maths_line(layer: RecurrentLayer) -> str:
    """``maths: activation tanh (config) · recurrent_activation hard_sigmoid = clip(...) (config) ...``."""
    from ...maths import resolve

    not_in_this_cell = {"merge_mode"} | ({"recurrent_activation"} if layer.cell == "simple_rnn" else set())
    if layer.cell != "gru":
        not_in_this_cell.add("reset_after")
    bits = []
    for name, fact in layer.maths.facts().items():
        if fact.origin is None and name in not_in_this_cell:
            continue
        if fact.origin is None:
            bits.append(f"{name} unknown")
            continue
        value = str(fact.value)
        resolved = resolve(value, layer.maths.writer) if layer.maths.writer and name.endswith("activation") else None
        if resolved is not None and resolved.formula != value and value not in ("tanh", "sigmoid", "relu", "linear"):
            value = f"{value} = {resolved.formula}"
        bits.append(f"{name} {value} ({fact.origin})")
    return "maths: " + " · ".join(bits)
