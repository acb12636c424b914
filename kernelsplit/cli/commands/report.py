"""``kernelsplit report``: one self-contained HTML file per run (summary, maths, findings, figures)."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from .. import COMMANDS
from ..options import config_option, figure_options, selection_options

DEFAULT_OUTPUT = "kernelsplit-report.html"


@click.command(
    "report",
    help=COMMANDS["report"]
    + f"""

PATHS are model files, folders and globs, found as check finds them. Per artifact: the inspect
summary with a sparkline histogram per gate block, the maths of each layer (explain's equations
and the facts), the check findings (configured as for check: [tool.kernelsplit] or --config; with
--layer, for the layers shown), and per layer the heatmap and distribution figures. One HTML
file with everything inlined: no network, no scripts, opens from disk in any browser. Written to
-o FILE [default: {DEFAULT_OUTPUT}; - for stdout].

Exit codes: 0 written, 2 a file could not be read (the report is still written and says so) /
usage / config error, 3 no model file found. Findings do not fail the run: check is the gate.
Needs matplotlib for the figures: pip install 'kernelsplit[plot]'.""",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@selection_options
@config_option
@figure_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str, allow_dash=True),
    default=DEFAULT_OUTPUT,
    show_default=True,
    metavar="FILE",
    help="Where to write the HTML (- for stdout).",
)
def command(
    paths: tuple[str, ...],
    layers: tuple[str, ...],
    gates: tuple[str, ...],
    parts: tuple[str, ...],
    config_path: str | None,
    log_count: bool,
    spectra: bool,
    spectra_max_units: int,
    output: str,
) -> ExitCode:
    import sys
    from pathlib import Path

    from ...analysis.select import Selection
    from ...check.config import load_config
    from ...errors import KernelsplitError
    from ...render.plot import require_matplotlib
    from ...render.plot.output import write_file
    from ...render.report import ReportOptions, build_report
    from ..output import report_error

    require_matplotlib()
    selection = Selection(layers, gates, parts)
    selection.validate()
    config = load_config(config_path)
    options = ReportOptions(log_count=log_count, spectra=spectra, spectra_max_units=spectra_max_units)
    run = build_report(paths, config, selection, options)
    for path, error in run.errors:
        report_error(error.at(path))
    document = run.report.html()
    if output == "-":
        sys.stdout.write(document)
    else:
        write_file(Path(output), document.encode("utf-8", errors="backslashreplace"), what="report")
        click.echo(f"wrote {output}", err=True)
    if run.exit_code == ExitCode.NO_INPUT:
        report_error(KernelsplitError("no model file found in " + " ".join(paths)))
    return run.exit_code
