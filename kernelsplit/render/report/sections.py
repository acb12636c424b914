"""The report's sections: per artifact its summary and check findings, per layer its gate table,
maths, heatmaps and distributions. Every function returns escaped HTML."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...check.rules import Finding
from ...errors import KernelsplitError
from ...model import Artifact, GateTensor, RecurrentLayer
from ..paths import display_path
from ..plot.data import sparkline
from .html import esc, table
from .maths import maths_section

if TYPE_CHECKING:
    from . import ReportOptions

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def anchor(artifact_index: int, layer_index: int | None = None) -> str:
    """Element ids come from counters only, never from file text."""
    return f"a{artifact_index}" if layer_index is None else f"a{artifact_index}-l{layer_index}"


def _num(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def layer_title(layer: RecurrentLayer) -> str:
    direction = f" {layer.direction}" if layer.direction else ""
    return f"{layer.class_name} units={layer.units}{direction}"


def artifact_summary(artifact: Artifact, selected_count: int) -> str:
    writer = artifact.writer.describe() if artifact.writer else None
    total = f" of {artifact.total_layers} layers" if artifact.total_layers is not None else ""
    rows = [
        ("format", esc(artifact.format)),
        ("Keras version", esc(artifact.keras_version or "not recorded")),
        ("written by", esc(writer or "unknown")),
        ("backend", esc(artifact.backend or "not recorded")),
        ("recurrent layers", esc(f"{len(artifact.layers)}{total}; {selected_count} shown")),
    ]
    if artifact.executable_layers:
        rows.append(
            (
                "executable layers (never run)",
                '<span class="error">' + esc(", ".join(artifact.executable_layers)) + "</span>",
            )
        )
    rows += [("note", esc(note)) for note in artifact.notes]
    return table(("", ""), [[f"<b>{esc(key)}</b>", value] for key, value in rows], "summary")


def findings_table(
    findings: Sequence[Finding], layer_anchors: dict[str, str], failures: Sequence[KernelsplitError]
) -> str:
    out = []
    if not findings:
        out.append('<p class="meta">No findings with the rules as configured.</p>')
    else:
        rows = []
        for finding in sorted(findings, key=lambda f: _SEVERITY_ORDER.get(f.severity, 3)):
            layer = esc(finding.layer or "")
            if finding.layer is not None and finding.layer in layer_anchors:
                layer = f'<a href="#{layer_anchors[finding.layer]}">{layer}</a>'
            rows.append(
                [
                    f'<span class="sev-{esc(finding.severity)}">{esc(finding.severity)}</span>',
                    f"<code>{esc(finding.code)}</code> {esc(finding.rule)}",
                    layer,
                    esc(finding.block),
                    esc(finding.detail),
                ]
            )
        out.append(table(("severity", "rule", "layer", "part[gate]", "message"), rows, "findings"))
    for failure in failures:
        out.append(f'<p class="error">{esc(failure.message)}</p>')
    return "".join(out)


def gates_table(layer: RecurrentLayer, tensors: Sequence[GateTensor]) -> str:
    headers = (
        "part",
        "gate",
        "slice",
        "shape",
        "dtype",
        "min",
        "max",
        "mean",
        "std",
        "abs max",
        "L2",
        "zeros",
        "NaN",
        "Inf",
        "histogram (min…max)",
        "sha256",
    )
    rows = []
    bad = []
    for index, tensor in enumerate(tensors):
        stats = tensor.stats
        if stats.nan or stats.inf:
            bad.append(index)
        rows.append(
            [
                esc(tensor.part),
                esc(f"{tensor.gate} ({layer.layout.gate_names.get(tensor.gate, '')})"),
                f"<code>{esc(tensor.selection or '(whole)')}</code>",
                esc("×".join(str(n) for n in tensor.shape)),
                esc(tensor.dtype),
                _num(stats.min),
                _num(stats.max),
                _num(stats.mean),
                _num(stats.std),
                _num(stats.abs_max),
                _num(stats.l2),
                f"{stats.zeros:.1%}" if stats.zeros else "0",
                _num(stats.nan),
                _num(stats.inf),
                esc(sparkline(tensor.array, stats.min, stats.max, width=16)),
                f'<code title="{esc(tensor.sha256)}">{esc(tensor.sha256[:12])}</code>',
            ]
        )
    classes = {index: "num" for index in range(5, 14)} | {14: "spark"}
    return '<div class="scroll">' + table(headers, rows, "gates", column_classes=classes, highlight=bad) + "</div>"


def figure_html(png: bytes, size: tuple[int, int], alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    width, height = size
    return (
        f'<figure><img alt="{esc(alt)}" width="{width}" height="{height}" '
        f'src="data:image/png;base64,{data}"><figcaption>{esc(caption)}</figcaption></figure>'
    )


def layer_section(
    artifact: Artifact,
    layer: RecurrentLayer,
    tensors: Sequence[GateTensor],
    findings: Sequence[Finding],
    ident: str,
    options: ReportOptions,
) -> str:
    out = [f'<section class="layer" id="{ident}">', f"<h3>{esc(layer.name)}</h3>"]
    facts = [
        f"class {layer.class_name}",
        f"cell {layer.cell}",
        f"units {layer.units}",
        f"input dim {layer.input_dim}" if layer.input_dim is not None else "input dim unknown",
    ]
    if layer.direction:
        facts.append(f"direction {layer.direction}")
    if layer.conversion:
        facts.append(f"converted from {layer.conversion} storage")
    if layer.inferred:
        facts.append("inferred from shapes (no config)")
    if layer.binding:
        facts.append(f"found by {layer.binding.method} at {layer.binding.where}")
    out.append('<p class="meta">' + esc(" · ".join(facts)) + "</p>")
    out += [f'<p class="meta">note: {esc(note)}</p>' for note in layer.notes]
    mine = [f for f in findings if f.layer == layer.name]
    if mine:
        items = "".join(
            f'<li><span class="sev-{esc(f.severity)}">{esc(f.severity)}</span> <code>{esc(f.code)}</code> '
            f"{esc(f.block)} {esc(f.detail)}</li>"
            for f in mine
        )
        out.append(f"<ul>{items}</ul>")
    out.append("<h4>Gate blocks</h4>")
    out.append(gates_table(layer, tensors))
    out.append(f'<p class="meta">stored at: {esc("; ".join(_stored_at(tensors)))}</p>')
    out.append("<h4>Maths</h4>")
    out.append(maths_section(artifact, layer))
    if options.figures:
        out += _figures(artifact, layer, tensors, options)
    out.append("</section>")
    return "\n".join(out)


def _stored_at(tensors: Sequence[GateTensor]) -> list[str]:
    paths: dict[str, list[str]] = {}
    for tensor in tensors:
        known = paths.setdefault(str(tensor.part), [])
        if tensor.stored_path not in known:
            known.append(tensor.stored_path)
    return [f"{part}: {', '.join(found)}" for part, found in paths.items()]


def _figures(
    artifact: Artifact, layer: RecurrentLayer, tensors: Sequence[GateTensor], options: ReportOptions
) -> list[str]:
    from ..plot import figures

    source = display_path(artifact.path)
    grids = figures.grids_of(tensors)
    out = ["<h4>Weights</h4>"]
    heat = figures.heatmap_figure(layer, tensors, source=source, grids=grids)
    out.append(
        figure_html(
            figures.render(heat),
            figures.pixel_size(heat),
            f"heatmaps of the gate blocks of {layer.name}",
            "One panel per gate block; one symmetric colour scale per part.",
        )
    )
    out.append("<h4>Distribution</h4>")
    dist = figures.distribution_figure(
        layer,
        tensors,
        source=source,
        grids=grids,
        log_count=options.log_count,
        spectra=options.spectra,
        spectra_max_units=options.spectra_max_units,
    )
    out.append(
        figure_html(
            figures.render(dist),
            figures.pixel_size(dist),
            f"distribution of the values of each gate of {layer.name}",
            "Each gate's values overlaid per part" + (" (log counts)" if options.log_count else "") + ".",
        )
    )
    return out


def failure_section(path: str, error: KernelsplitError, ident: str) -> str:
    return (
        f'<section class="artifact" id="{ident}"><h2>{esc(display_path(path))}</h2>'
        f'<p class="error">could not be read ({esc(error.code)}): {esc(error.message)}</p></section>'
    )
