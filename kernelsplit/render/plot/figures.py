"""The figures, drawn with matplotlib's object API on the Agg canvas (never pyplot, never a GUI).

Every function returns a :class:`matplotlib.figure.Figure`; ``render`` turns one into PNG or SVG
bytes. Axes carry labels the tests read (``kernel:f``, ``colorbar:kernel``, ``distribution:bias``,
``spectra``), so layout and colour scales are asserted from the figure objects, not from pixels.
Text that comes from a file (layer names, paths) is drawn with mathtext off and control characters
escaped, so a hostile name cannot break rendering. Layout and conventions: docs/architecture.md,
"Pictures".
"""

from __future__ import annotations

import contextlib
import io
import math
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ...layouts import PARTS
from . import data, printable
from .data import MAX_CELLS, Grid

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure

    from ...analysis.diff import LayerDiff
    from ...model import GateTensor, RecurrentLayer

#: The symbol of each part in panel titles: W_f, U_f, b_f, b_rec,f.
SYMBOL = {"kernel": "W", "recurrent_kernel": "U", "bias": "b", "recurrent_bias": "b_rec,"}
#: What a matrix's rows are, per part (its columns are always the layer's units).
ROWS = {"kernel": "rows: inputs", "recurrent_kernel": "rows: h(t-1) units"}
DPI = 100
#: Inches per gate panel; a figure never gets wider than four panels plus a colour bar.
PANEL_WIDTH = 2.9
#: Colour of NaN and ±Inf in heatmaps (the diverging map has no black).
NONFINITE_COLOUR = "black"
_GATE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
#: rc settings applied around every figure (``Any``: matplotlib types the keys as a Literal union).
_STYLE: Any = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "svg.hashsalt": "kernelsplit",  # the same model gives the same SVG bytes
    "figure.dpi": DPI,
}


@contextlib.contextmanager
def _style() -> Iterator[None]:
    """kernelsplit's rc settings, whatever the user's matplotlibrc says; glyph warnings silenced
    (a layer name in a script the font lacks is drawn as boxes, not reported on stderr)."""
    import matplotlib

    with matplotlib.rc_context(_STYLE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas. Axes are placed in inches by the callers (``_Page``): a layout
    engine would measure every tick label twice per save, which was most of the drawing time."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


class _Page:
    """Places axes on a figure by inches measured from the top-left corner."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.width, self.height = (float(v) for v in figure.get_size_inches())

    def axes(self, left: float, top: float, width: float, height: float) -> Axes:
        box = (left / self.width, 1.0 - (top + height) / self.height, width / self.width, height / self.height)
        return self.figure.add_axes(box)

    def text(self, left: float, top: float, text: str, **kwargs: Any) -> None:
        self.figure.text(left / self.width, 1.0 - top / self.height, text, va="top", parse_math=False, **kwargs)


def _cmap() -> Colormap:
    import matplotlib

    return matplotlib.colormaps["RdBu_r"].with_extremes(bad=NONFINITE_COLOUR)


def _text(text: object, limit: int = 120) -> dict[str, Any]:
    """Keyword arguments that draw file-controlled text literally (no mathtext on ``$``)."""
    return {"s": printable(text, limit), "parse_math": False}


def _gate_label(layer: RecurrentLayer, part: str, gate: str) -> str:
    symbol = SYMBOL[part]
    return f"{symbol}{'' if symbol.endswith(',') else '_'}{gate} {layer.layout.gate_names.get(gate, '')}".rstrip()


def _shape(shape: Sequence[int]) -> str:
    return "×".join(str(n) for n in shape)


def _header(layer: RecurrentLayer, source: str | None, what: str) -> list[str]:
    bits = [f"{layer.class_name}", f"cell={layer.cell}", f"units={layer.units}"]
    if layer.direction:
        bits.append(f"direction={layer.direction}")
    if layer.conversion:
        bits.append(f"converted from {layer.conversion}")
    if layer.inferred:
        bits.append("inferred from shapes")
    lines = [f"{printable(layer.name, 80)}: {what}", "  ".join(printable(b, 60) for b in bits)]
    return lines + ([printable(source, 140)] if source else [])


def _wrap(lines: Sequence[str], width_inches: float) -> list[str]:
    """Notes wrapped to the figure width (7-point text is about 0.055 inch per character)."""
    columns = max(40, int((width_inches - 0.2) / 0.056))
    return [piece for line in lines for piece in textwrap.wrap(line, columns)]


def _pool_note(grids: Sequence[Grid]) -> list[str]:
    notes = []
    if any(g.pooled for g in grids):
        notes.append(
            f"Blocks over {MAX_CELLS}×{MAX_CELLS} cells are max-|w| pooled (titles: full → drawn size): "
            "each cell shows the value of largest magnitude in its tile, so one exploded weight stays visible."
        )
    if any(g.tile is not None for g in grids):
        notes.append(
            "ConvLSTM mosaic: the tile in row c, column f (ticks) is the kernel from channel c to filter f, "
            "kernel rows × kernel columns (3-D kernels: depth slices side by side)."
        )
    bad = sum(g.nonfinite for g in grids)
    if bad:
        notes.append(f"Black: NaN or ±Inf ({bad} value{'s' if bad != 1 else ''}).")
    if any(g.marks for g in grids):
        notes.append(
            f"Circles: NaN/Inf cells, and a block's largest |value| where it is ≥ {data.OUTLIER_RATIO:g}× the "
            "99th percentile of the block's drawn |values| (one cell is easy to miss in a large picture)."
        )
    return notes


def _panel_title(label: str, grid: Grid) -> str:
    size = _shape(grid.shape)
    if grid.pooled:
        size += f" → {_shape(grid.values.shape)}"
    return f"{label}  {size}"


def _integer_ticks(ax: Axes, y: bool = True) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    if y:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    else:
        ax.set_yticks([])


def _draw(ax: Axes, grid: Grid, norm: Normalize, cmap: Colormap) -> None:
    rows, cols = grid.full
    if grid.values.size == 0:
        _message(ax, "empty")
        return
    # Cell centres at the block's indices, also when pooled (a drawn cell spans its whole tile).
    ax.imshow(
        grid.values,
        cmap=cmap,
        norm=norm,
        interpolation="nearest",
        aspect="auto",
        extent=(-0.5, cols - 0.5, rows - 0.5, -0.5),
    )
    if grid.tile is None:
        _integer_ticks(ax, y=rows > 1)
    else:
        _tile_ticks(ax, grid)
    for row, column in grid.marks:
        ax.plot(
            column, row, marker="o", markersize=12, markerfacecolor="none", markeredgecolor="black", markeredgewidth=1.2
        )
        ax.plot(
            column, row, marker="o", markersize=15, markerfacecolor="none", markeredgecolor="white", markeredgewidth=0.8
        )


def _tile_ticks(ax: Axes, grid: Grid) -> None:
    """A mosaic's ticks name tiles (channel rows, filter columns) and thin lines separate them."""
    assert grid.tile is not None
    rows, cols = grid.full
    for axis, size, tile, factor, line in (
        (ax.yaxis, rows, grid.tile[0], grid.factor[0], ax.axhline),
        (ax.xaxis, cols, grid.tile[1], grid.factor[1], ax.axvline),
    ):
        count = size // tile
        step = max(1, math.ceil(count / 4))
        axis.set_ticks(
            [k * tile + (tile - 1) / 2 for k in range(0, count, step)], [str(k) for k in range(0, count, step)]
        )
        # Borders only where a tile is at least 2 drawn cells wide (else they would be a smear).
        if tile > 1 and tile / factor >= 2:
            for edge in range(tile, size, tile):
                line(edge - 0.5, color="#777777", linewidth=0.6)


def _message(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=7, parse_math=False)
    ax.set_xticks([])
    ax.set_yticks([])


def _is_mosaic(cell: Grid | str | None) -> bool:
    return isinstance(cell, Grid) and cell.tile is not None


def _row_label(part: str, cells: Sequence[Grid | str]) -> str:
    if any(_is_mosaic(c) for c in cells):
        return part + ("\nrows: input channel" if part == "kernel" else "\nrows: state channel")
    return part + (f"\n{ROWS[part]}" if part in ROWS else "")


# Inches: text lines, margins and gaps of the page layouts.
_LINE, _NOTE_LINE, _TITLE, _TICKS = 0.18, 0.14, 0.22, 0.3
_LEFT, _GAP, _BAR, _BAR_GAP, _RIGHT = 0.85, 0.45, 0.14, 0.15, 0.8
_MIN_WIDTH = 6.5


def _matrix_figure(
    layer: RecurrentLayer,
    cells: dict[tuple[str, str], Grid | str],
    titles: dict[tuple[str, str], str],
    source: str | None,
    what: str,
    colour_label: str,
) -> Figure:
    """Panels in part rows × gate columns, one symmetric colour scale (and bar) per part row.

    ``cells`` holds a grid per drawn block, or a sentence for a block that has no picture.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    gates = [g for g in layer.gates if any(key[1] == g for key in cells)]
    # A diff across cell kinds also has the old layer's gates: keep them, after the new ones.
    gates += [g for g in dict.fromkeys(key[1] for key in cells) if g not in gates]
    parts = [p for p in PARTS if any(key[0] == p for key in cells)]
    grids = [cell for cell in cells.values() if isinstance(cell, Grid)]
    fixed = _LEFT + (len(gates) - 1) * _GAP + _BAR_GAP + _BAR + _RIGHT
    panel = max(2.6, (_MIN_WIDTH - fixed) / len(gates))
    width = fixed + panel * len(gates)
    heights = []
    for part in parts:
        row = [c for (p, _), c in cells.items() if p == part and isinstance(c, Grid)]
        if not row:
            heights.append(0.6)
        elif all(g.full[0] == 1 for g in row):
            heights.append(0.3)
        else:
            rows, cols = row[0].full
            heights.append(min(2.6, max(1.2, panel * min(1.6, rows / max(cols, 1)))))
    header = _header(layer, source, what)
    notes = _wrap(_pool_note(grids), width)
    top = 0.1 + _LINE * len(header) + 0.1
    height = top + sum(h + _TITLE + _TICKS for h in heights) + 0.05 + _NOTE_LINE * len(notes) + 0.1
    figure = _figure(width, height)
    page = _Page(figure)
    page.text(width / 2, 0.1, "\n".join(header), ha="center", fontsize=9, linespacing=1.3)
    cmap = _cmap()
    y = top
    for part, row_height in zip(parts, heights, strict=True):
        y += _TITLE
        row_cells = [cells[(part, g)] for g in gates if (part, g) in cells]
        limit = data.symmetric_limit([c.abs_max for c in row_cells if isinstance(c, Grid)])
        norm = Normalize(vmin=-limit, vmax=limit)
        for column, gate in enumerate(gates):
            ax = page.axes(_LEFT + column * (panel + _GAP), y, panel, row_height)
            ax.set_label(f"{part}:{gate}")
            ax.set_title(titles.get((part, gate), ""), loc="left", parse_math=False)
            cell = cells.get((part, gate))
            if isinstance(cell, Grid):
                _draw(ax, cell, norm, cmap)
            else:
                _message(ax, cell or "not stored")
            if column == 0:
                ax.set_ylabel(_row_label(part, row_cells))
        cax = page.axes(width - _RIGHT - _BAR, y, _BAR, row_height)
        cax.set_label(f"colorbar:{part}")
        bar = figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
        if row_height < 1.0:  # a bias strip: no room for ticks or a rotated label
            bar.set_ticks([])
            cax.set_ylabel(f"{colour_label} ±{limit:.3g}", rotation=0, ha="left", va="center")
        else:
            bar.locator = _bar_locator()
            bar.update_ticks()
            bar.set_label(f"{colour_label} ±{limit:.3g}")
        y += row_height + _TICKS
    if notes:
        page.text(0.1, y + 0.05, "\n".join(notes), fontsize=7, color="#444444", linespacing=1.25)
    return figure


def _bar_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=4, symmetric=True)


def grids_of(tensors: Sequence[GateTensor], max_cells: int = MAX_CELLS) -> dict[tuple[str, str], Grid]:
    """The picture of every block, computed once and shared by the heatmap and distribution figures."""
    return {(str(t.part), t.gate): data.grid(t.array, max_cells) for t in tensors}


def heatmap_figure(
    layer: RecurrentLayer,
    tensors: Sequence[GateTensor],
    source: str | None = None,
    grids: dict[tuple[str, str], Grid] | None = None,
) -> Figure:
    """One panel per gate block: W_* side by side, U_* below, biases as strips; a colour scale per part."""
    grids = grids if grids is not None else grids_of(tensors)
    cells: dict[tuple[str, str], Grid | str] = {}
    titles = {}
    for tensor in tensors:
        key = (str(tensor.part), tensor.gate)
        cells[key] = grids[key]
        titles[key] = _panel_title(_gate_label(layer, tensor.part, tensor.gate), grids[key])
    with _style():
        return _matrix_figure(layer, cells, titles, source, "gate weights", "weight")


def bins_for(values_per_gate: int) -> int:
    """Histogram bins: about 2·√n, between 8 and ``data.BINS`` (12 values get 8 bins, not 60 spikes)."""
    return int(min(data.BINS, max(8, math.ceil(2 * math.sqrt(max(values_per_gate, 1))))))


_DIST_WIDTH, _DIST_HEIGHT, _DIST_GAP = 3.0, 2.2, 0.7


def distribution_figure(
    layer: RecurrentLayer,
    tensors: Sequence[GateTensor],
    source: str | None = None,
    grids: dict[tuple[str, str], Grid] | None = None,
    log_count: bool = False,
    spectra: bool = False,
    spectra_max_units: int = 512,
) -> Figure:
    """Per part, each gate's histogram overlaid (shared bins); optionally the recurrent blocks' spectra."""
    from matplotlib.lines import Line2D

    grids = grids if grids is not None else grids_of(tensors)
    parts = [p for p in PARTS if any(t.part == p for t in tensors)]
    gates = [g for g in layer.gates if any(t.gate == g for t in tensors)]
    recurrent = [t for t in tensors if t.part == "recurrent_kernel"]
    show_spectra = spectra and bool(recurrent)
    panels: list[str | None] = [*parts, *([None] if show_spectra else [])]  # None: the spectra panel
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    width = max(_MIN_WIDTH, _LEFT + columns * _DIST_WIDTH + (columns - 1) * _DIST_GAP + 0.3)
    header = _header(layer, source, "distribution of values per gate")
    notes = _wrap(
        [
            "Histograms: equal bins over ±(largest finite |value| of the part), the same bins for every gate "
            "of a part; gates overlaid. NaN and ±Inf are not drawn (counted in the panel)."
        ],
        width,
    )
    top = 0.1 + _LINE * len(header) + 0.1 + 0.25  # + the gate legend line
    row_step = _TITLE + _DIST_HEIGHT + 0.5
    height = top + rows * row_step + _NOTE_LINE * len(notes) + 0.1
    with _style():
        figure = _figure(width, height)
        page = _Page(figure)
        page.text(width / 2, 0.1, "\n".join(header), ha="center", fontsize=9, linespacing=1.3)
        handles = [Line2D([], [], color=_gate_colour(layer, g), linewidth=1.5) for g in gates]
        figure.legend(
            handles,
            [f"{g} {layer.layout.gate_names.get(g, '')}" for g in gates],
            loc="upper center",
            bbox_to_anchor=(0.5, 1.0 - (0.1 + _LINE * len(header) + 0.05) / height),
            ncols=len(gates),
            frameon=False,
        )
        for index, part in enumerate(panels):
            row, column = divmod(index, columns)
            ax = page.axes(
                _LEFT + column * (_DIST_WIDTH + _DIST_GAP), top + row * row_step + _TITLE, _DIST_WIDTH, _DIST_HEIGHT
            )
            if part is None:
                _spectra_axes(ax, layer, recurrent, spectra_max_units)
            else:
                _histogram_axes(ax, layer, part, [t for t in tensors if t.part == part], grids, log_count)
        page.text(0.1, top + rows * row_step, "\n".join(notes), fontsize=7, color="#444444")
        return figure


def _histogram_axes(
    ax: Axes,
    layer: RecurrentLayer,
    part: str,
    blocks: Sequence[GateTensor],
    grids: dict[tuple[str, str], Grid],
    log_count: bool,
) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_label(f"distribution:{part}")
    limit = data.symmetric_limit([grids[(part, t.gate)].abs_max for t in blocks])
    size = int(np.prod(blocks[0].shape))
    bins = bins_for(size)
    edges = np.linspace(-limit, limit, bins + 1)
    skipped = []
    for tensor in blocks:
        counts = data.histogram(tensor.array, -limit, limit, bins)
        ax.stairs(counts, edges, color=_gate_colour(layer, tensor.gate), linewidth=1.2, label=tensor.gate)
        bad = grids[(part, tensor.gate)].nonfinite
        if bad:
            skipped.append(f"{tensor.gate}: {bad} NaN/Inf")
    if log_count:
        ax.set_yscale("log", nonpositive="mask")
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-limit, limit)
    ax.set_title(f"{part}  ({size} values per gate)", loc="left")
    ax.set_xlabel("value")
    ax.set_ylabel("count (log scale)" if log_count else "count")
    if skipped:
        ax.text(
            0.02,
            0.97,
            "not drawn: " + ", ".join(skipped),
            transform=ax.transAxes,
            va="top",
            fontsize=7,
            parse_math=False,
        )


def _gate_colour(layer: RecurrentLayer, gate: str) -> str:
    return _GATE_COLOURS[layer.gates.index(gate) % len(_GATE_COLOURS)]


def _spectra_axes(ax: Axes, layer: RecurrentLayer, recurrent: Sequence[GateTensor], max_units: int) -> None:
    ax.set_label("spectra")
    lines = []
    for tensor in recurrent:
        found = data.spectrum(tensor.array, max_units)
        if found.values is None:
            lines.append(f"U_{tensor.gate}: no spectrum, {found.skipped}")
            continue
        ax.plot(
            np.arange(1, found.values.size + 1),
            found.values,
            color=_gate_colour(layer, tensor.gate),
            linewidth=1.2,
            marker="o" if found.values.size <= 32 else None,
            markersize=3,
            label=tensor.gate,
        )
        lines.append(f"U_{tensor.gate}: σ₁ = {found.values[0]:.4g}")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("singular values of U_g", loc="left")
    ax.set_xlabel("index")
    ax.set_ylabel("σ")
    ax.text(0.98, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize=7, parse_math=False)


def diff_figure(
    layer_diff: LayerDiff,
    old: RecurrentLayer,
    new: RecurrentLayer,
    source: str | None = None,
) -> Figure:
    """Per gate block the change new − old (max-|Δ| pooled), one symmetric scale per part."""
    old_blocks = {(str(t.part), t.gate): t for t in old.tensors}
    new_blocks = {(str(t.part), t.gate): t for t in new.tensors}
    cells: dict[tuple[str, str], Grid | str] = {}
    titles = {}
    for change in layer_diff.tensors:
        key = (str(change.part), change.gate)
        label = "Δ" + _gate_label(new, change.part, change.gate)
        before, after = old_blocks.get(key), new_blocks.get(key)
        titles[key] = label
        if change.status == "shape-changed":
            cells[key] = f"shape {_shape(change.old_shape or ())} → {_shape(change.new_shape or ())}"
            continue
        if before is None or after is None:
            cells[key] = f"block {change.status}"
            continue
        with np.errstate(invalid="ignore", over="ignore"):
            delta = np.asarray(after.array, dtype=np.float64) - np.asarray(before.array, dtype=np.float64)
        grid = data.grid(delta)
        cells[key] = grid
        if change.status == "identical":
            titles[key] = f"{label}  identical"
        else:
            relative = "" if change.relative_change is None else f"  rel {change.relative_change:.3g}"
            titles[key] = _panel_title(label, grid) + relative
    with _style():
        return _matrix_figure(new, cells, titles, source, "change new − old per gate", "Δ")


def render(figure: Figure, fmt: str = "png") -> bytes:
    """The figure as PNG or SVG bytes (no timestamps: the same figure gives the same bytes)."""
    metadata: dict[str, str | None] = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    buffer = io.BytesIO()
    with _style():
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def pixel_size(figure: Figure) -> tuple[int, int]:
    """Width and height in pixels of ``render(figure, "png")`` (no tight bounding box is used)."""
    width, height = figure.get_size_inches()
    return round(width * DPI), round(height * DPI)
