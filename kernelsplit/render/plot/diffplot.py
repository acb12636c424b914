"""``diff --plot``: per changed layer, each gate's change new − old as a heatmap."""

from __future__ import annotations

import click

from ...analysis.diff import DiffReport, LayerDiff
from ..paths import display_path
from .output import Target, write_file


def changed_layers(report: DiffReport, target: Target) -> list[LayerDiff]:
    """The layers present on both sides whose blocks changed; refuses (before anything is written)
    a single-file target that would need several figures."""
    changed = [
        layer
        for layer in report.layers
        if layer.status == "changed"
        and layer.old_layer is not None
        and layer.new_layer is not None
        and any(t.status != "identical" for t in layer.tensors)
    ]
    if changed:
        target.check_count(len(changed))
    return changed


def plot_diff(report: DiffReport, changed: list[LayerDiff], target: Target) -> list[str]:
    """Write one figure per changed layer; return the files.

    The files written (or why none were) are listed on stderr: stdout holds the diff report.
    """
    from . import figures

    if not changed:
        click.echo("kernelsplit: no gate block changed: nothing to plot", err=True)
        return []
    source = f"{display_path(report.old.path)} → {display_path(report.new.path)}"
    written = []
    for layer in changed:
        assert layer.old_layer is not None and layer.new_layer is not None
        figure = figures.diff_figure(layer, layer.old_layer, layer.new_layer, source=source)
        destination = target.name(layer.new_layer.name, "diff")
        write_file(destination, figures.render(figure, target.fmt))
        click.echo(f"kernelsplit: wrote {destination}", err=True)
        written.append(str(destination))
    return written
