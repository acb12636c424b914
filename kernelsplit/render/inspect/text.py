"""``inspect`` for humans: one rich table per recurrent layer, one row per (part, gate)."""

from __future__ import annotations

from typing import IO, Any

from ...layouts import CELL_LAYOUTS
from ...model import Artifact, Failure, GateTensor, RecurrentLayer
from . import InspectReporter


def _num(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _stored_at(tensors: list[GateTensor]) -> list[str]:
    """One caption line per part naming its stored tensor (Keras 1 stores one per gate)."""
    paths: dict[str, list[str]] = {}
    for tensor in tensors:
        known = paths.setdefault(tensor.part, [])
        if tensor.stored_path not in known:
            known.append(tensor.stored_path)
    return [f"{part}: {', '.join(found)}" for part, found in paths.items()]


class InspectTextReporter(InspectReporter):
    """Prints each artifact as soon as it is read, so a batch run holds one model at a time."""

    name = "text"

    def __init__(self, file: IO[str] | None = None) -> None:
        from ..console import make_console

        super().__init__(file)
        self.console = make_console(file)

    def add(self, artifact: Artifact | Failure, selected: list[tuple[RecurrentLayer, list[GateTensor]]]) -> None:
        from rich.table import Table
        from rich.text import Text

        if isinstance(artifact, Failure):
            return  # already reported on stderr
        console = self.console
        version = f", Keras {artifact.keras_version}" if artifact.keras_version else ""
        console.print(Text(f"{artifact.path}", style="bold") + Text(f"  ({artifact.format}{version})"))
        if not artifact.layers:
            total = f" among {artifact.total_layers} layers" if artifact.total_layers is not None else ""
            console.print(f"  no recurrent layers{total}")
        for note in artifact.notes:
            console.print(Text(f"  note: {note}", style="dim"))
        if artifact.executable_layers:
            console.print(
                Text(
                    "  executable layers (never run by kernelsplit): " + ", ".join(artifact.executable_layers),
                    style="yellow",
                )
            )
        for layer, tensors in selected:
            table = _table(layer, tensors, Table)
            # Rich would elide digits or drop whole columns to fit a narrow terminal: render at the
            # table's natural width instead and let the terminal wrap.
            natural = sum(c.min_width or 0 for c in table.columns) + 3 * (len(table.columns) - 1)
            width = console.width
            console.width = max(width, natural)
            console.print(table, crop=False)
            console.width = width
        console.print()


def _table(layer: RecurrentLayer, tensors: list[GateTensor], table_cls: Any) -> Any:
    layout = CELL_LAYOUTS[layer.cell]
    direction = f"  direction={layer.direction}" if layer.direction else ""
    inferred = "  [inferred from shapes]" if layer.inferred else ""
    conversion = f"  converted from {layer.conversion}" if layer.conversion else ""
    title = f"{layer.name}  {layer.class_name}  cell={layer.cell}  units={layer.units}{direction}{inferred}{conversion}"
    caption_lines = _stored_at(tensors) + [_maths_line(layer)] + [f"note: {n}" for n in layer.notes]
    table = table_cls(
        title=title,
        title_justify="left",
        caption="\n".join(caption_lines),
        caption_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    headers = (
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
    rows = [_row(tensor, layout.gate_names[tensor.gate]) for tensor in tensors]
    for index, (header, justify) in enumerate(headers):
        width = max([len(header), *(len(row[index]) for row, _ in rows)])
        table.add_column(header, justify=justify, no_wrap=True, min_width=width)
    for cells, bad in rows:
        table.add_row(*cells, style="red" if bad else None)
    return table


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
