"""``kernelsplit diff OLD NEW``: what changed between two artifacts, gate by gate."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from ...render.diff import REPORTERS
from .. import COMMANDS
from ..options import config_option, exit_zero_option, format_option, quiet_option, report_file_option
from ..output import report_error


@click.command(
    "diff",
    help=COMMANDS["diff"]
    + """

Per layer, part and gate: identical (same digest) or changed, with the relative Frobenius change
|new - old| / |old| and the max absolute change; shape, dtype and config changes; layers added or
removed. Works across formats (.h5 vs .keras). Exit codes: 0 no breaking change, 1 a shape
changed, a layer disappeared or a drift exceeds --max-drift, 2 unreadable file / usage / config.""",
)
@click.argument("old", type=click.Path(path_type=str))
@click.argument("new", type=click.Path(path_type=str))
@format_option(tuple(REPORTERS), "text")
@click.option(
    "--max-drift",
    type=click.FloatRange(min=0.0),
    default=None,
    metavar="X",
    help="Fail when a block's relative change exceeds X (default: config's diff.max-drift, else never).",
)
@config_option
@report_file_option
@quiet_option
@exit_zero_option
@click.option(
    "--plot",
    "plot_to",
    type=click.Path(path_type=str),
    default=None,
    metavar="FILE.png|FILE.svg|DIR",
    help="Also draw, per changed layer, each gate's change new − old as a heatmap: one image file "
    "(one changed layer) or a folder (LAYER-diff.png each). Needs kernelsplit[plot].",
)
def command(
    old: str,
    new: str,
    output_format: str,
    max_drift: float | None,
    config_path: str | None,
    output: str | None,
    quiet: bool,
    exit_zero: bool,
    plot_to: str | None,
) -> ExitCode:
    from ...analysis.diff import diff_artifacts
    from ...api import try_open
    from ...check.config import load_config
    from ...model import Artifact, Failure
    from ...render.diff import reporter
    from ..output import emit

    target = None
    if plot_to is not None:
        from ...render.plot import require_matplotlib
        from ...render.plot.output import resolve_target

        require_matplotlib()
        target = resolve_target(plot_to, plot_to, None)
    config = load_config(config_path)
    outcomes = [try_open(path) for path in (old, new)]
    artifacts = [a for a in outcomes if isinstance(a, Artifact)]
    for failure in outcomes:
        if isinstance(failure, Failure):
            report_error(failure.error)
    if len(artifacts) != 2:
        return ExitCode.ERROR
    limit = max_drift if max_drift is not None else config.max_drift
    report = diff_artifacts(artifacts[0], artifacts[1], max_drift=limit)
    report.exit_zero = exit_zero
    changed = None
    if target is not None:
        from ...render.plot.diffplot import changed_layers

        changed = changed_layers(report, target)  # a usage error here comes before any output
    emit(reporter(output_format, quiet=quiet), report, output, markdown_summary=output_format == "markdown")
    if target is not None and changed is not None:
        from ...render.plot.diffplot import plot_diff

        plot_diff(report, changed, target)
    return ExitCode(report.exit_code)
