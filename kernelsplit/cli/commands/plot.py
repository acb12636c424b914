"""``kernelsplit plot``: pictures of every gate block (heatmaps) and of their values (distributions)."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from ...render.plot.output import IMAGE_FORMATS
from .. import COMMANDS
from ..options import figure_options, selection_options

FIGURES = ("heatmap", "distribution")


@click.command(
    "plot",
    help=COMMANDS["plot"]
    + """

Per selected layer: a heatmap figure (W_* side by side, U_* below, biases as strips, one symmetric
colour scale per part; blocks over 256×256 are max-|w| pooled so a single exploded weight stays
visible; ConvLSTM kernels as channel × filter mosaics) and a distribution figure (each gate's values
overlaid per part; --spectra adds the singular values of the recurrent blocks).

-o FILE.png or FILE.svg writes one figure (select it with --layer and --figure); any other -o is a
folder that gets LAYER-heatmap.png and LAYER-distribution.png per layer [default: ./STEM-plots/].
The files written are listed on stdout. Needs matplotlib: pip install 'kernelsplit[plot]'.""",
)
@click.argument("path", type=click.Path(path_type=str))
@selection_options
@click.option(
    "--figure",
    "kinds",
    type=click.Choice(FIGURES),
    multiple=True,
    help="Only this figure per layer (default: both). Repeatable.",
)
@figure_options
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=str),
    default=None,
    metavar="FILE.png|FILE.svg|DIR",
    help="One image file, or a folder for all figures.",
)
@click.option(
    "--image-format",
    type=click.Choice(IMAGE_FORMATS),
    default=None,
    help="Image format of the files in a folder [default: png; a file name's suffix decides for a file].",
)
def command(
    path: str,
    layers: tuple[str, ...],
    gates: tuple[str, ...],
    parts: tuple[str, ...],
    kinds: tuple[str, ...],
    log_count: bool,
    spectra: bool,
    spectra_max_units: int,
    output: str | None,
    image_format: str | None,
) -> ExitCode:
    from pathlib import Path

    from ...analysis.select import Selection
    from ...api import open_artifact
    from ...errors import UsageError
    from ...render.paths import display_path
    from ...render.plot import require_matplotlib
    from ...render.plot.output import resolve_target, write_file
    from ..output import report_warning

    require_matplotlib()
    selection = Selection(layers, gates, parts)
    selection.validate()
    target = resolve_target(output, f"{Path(path).name.split('.')[0] or 'model'}-plots", image_format)
    artifact = open_artifact(path)
    chosen = selection.apply(artifact)
    if not artifact.layers:
        report_warning(path, "no recurrent layers: nothing to plot")
        return ExitCode.OK
    if not chosen:
        raise UsageError("no layer, gate or part matches the filters")
    wanted = kinds or FIGURES
    target.check_count(len(chosen) * len(wanted))

    from ...render.plot import figures

    source = display_path(artifact.path)
    for layer, tensors in chosen:
        grids = figures.grids_of(tensors)
        for kind in FIGURES:
            if kind not in wanted:
                continue
            if kind == "heatmap":
                figure = figures.heatmap_figure(layer, tensors, source=source, grids=grids)
            else:
                figure = figures.distribution_figure(
                    layer,
                    tensors,
                    source=source,
                    grids=grids,
                    log_count=log_count,
                    spectra=spectra,
                    spectra_max_units=spectra_max_units,
                )
            destination = target.name(layer.name, kind)
            write_file(destination, figures.render(figure, target.fmt))
            click.echo(str(destination))
    return ExitCode.OK
