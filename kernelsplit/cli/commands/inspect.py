"""``kernelsplit inspect``: every recurrent layer's gate matrices with shapes and statistics."""

from __future__ import annotations

import click

from ...errors import UsageError
from ...exitcodes import ExitCode
from ...render.inspect import REPORTERS
from .. import COMMANDS
from ..options import expand_globs, format_option, paths_argument, selection_options
from ..output import report_error

COMMANDS_HELP = COMMANDS["inspect"]


@click.command("inspect", help=COMMANDS_HELP)
@paths_argument
@selection_options
@format_option(tuple(REPORTERS), "text")
def command(
    paths: tuple[str, ...], layers: tuple[str, ...], gates: tuple[str, ...], parts: tuple[str, ...], output_format: str
) -> ExitCode:
    """Show every recurrent layer's gate matrices with shapes and statistics."""
    from ...analysis.select import Selection
    from ...api import try_open
    from ...model import Failure

    selection = Selection(layers, gates, parts)
    selection.validate()
    from ...render.inspect import reporter as make_reporter

    reporter = make_reporter(output_format)
    failed = False
    matched = 0
    any_layers = False
    for path in expand_globs(paths):
        artifact = try_open(path)
        chosen = []
        if isinstance(artifact, Failure):
            failed = True
            report_error(artifact.error)
        else:
            chosen = selection.apply(artifact)
            matched += len(chosen)
            any_layers = any_layers or bool(artifact.layers)
        reporter.add(artifact, chosen)  # rendered now; the arrays are dropped with the artifact
    reporter.finish()
    if selection.active and matched == 0 and any_layers:
        raise UsageError("no layer, gate or part matches the filters")
    return ExitCode.ERROR if failed else ExitCode.OK
