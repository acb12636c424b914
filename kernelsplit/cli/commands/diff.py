"""``kernelsplit diff OLD NEW``: what changed between two artifacts, gate by gate."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from ...render.diff import REPORTERS
from .. import COMMANDS
from ..options import (
    FiniteFloat,
    config_option,
    exit_zero_option,
    format_option,
    isolation_options,
    make_limits,
    quiet_option,
    report_file_option,
)
from ..output import report_error


@click.command(
    "diff",
    help=COMMANDS["diff"]
    + """

Per layer, part and gate: identical (same digest) or changed, with the relative Frobenius change
|new - old| / |old| and the max absolute change; shape, dtype and config changes; layers added or
removed. Works across formats (.h5 vs .keras). Both files are read in one worker process under
--timeout (per file) and --max-memory. Exit codes: 0 no breaking change, 1 a shape
changed, a layer disappeared or a drift exceeds --max-drift, 2 unreadable file / usage / config.""",
)
@click.argument("old", type=click.Path(path_type=str))
@click.argument("new", type=click.Path(path_type=str))
@format_option(tuple(REPORTERS), "text")
@click.option(
    "--max-drift",
    type=FiniteFloat(min=0.0),
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
@isolation_options
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
    jobs: int | None,
    timeout: float,
    max_memory: str,
) -> ExitCode:
    import sys

    from ...batch.pool import Call, run_one, warm
    from ...batch.results import DiffResult
    from ...check.config import load_config
    from ..output import emit_text

    if plot_to is not None:  # usage errors before any work
        from ...render.plot import require_matplotlib
        from ...render.plot.output import resolve_target

        require_matplotlib()
        resolve_target(plot_to, plot_to, None)
    limits = make_limits(min(jobs, 1) if jobs is not None else 1, timeout, max_memory)
    warm(limits, 1)
    config = load_config(config_path)
    limit = max_drift if max_drift is not None else config.max_drift
    tty = bool(getattr(sys.stdout, "isatty", lambda: False)()) and not output
    options = {"max_drift": limit, "quiet": quiet, "exit_zero": exit_zero, "plot_to": plot_to}
    # One worker opens both files (the diff needs both artifacts' arrays), within twice the time limit.
    args = (old, new, output_format, options, tty)
    call = Call("kernelsplit.batch.steps:diff_files", args, old, files=2, terminal=tty)
    result: DiffResult = run_one(call, limits)
    for error in result.errors:
        report_error(error)
    if result.errors:
        return ExitCode.ERROR
    emit_text(result.text, output, markdown_summary=output_format == "markdown")
    if result.notes:
        sys.stderr.write(result.notes)
    return ExitCode(result.exit_code)
