"""``kernelsplit explain``: the equations Keras computes for each layer, every term bound to the file."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from ...render.explain import REPORTERS
from .. import COMMANDS
from ..options import expand_globs, format_option, paths_argument
from ..output import report_error


@click.command(
    "explain",
    help=COMMANDS["explain"]
    + """

\b
Per layer: the cell's equations (LSTM, GRU reset_after True/False, SimpleRNN, ConvLSTM) with each
W/U/b block bound to its stored tensor, slice, shape, dtype and digest; every activation with where
its name came from and what the Keras that wrote the file computes for it (and what Keras 3 would
compute on reload, where that differs); go_backwards, return_sequences, Bidirectional merge_mode,
CuDNN and Keras 1 storage. What the file does not store is shown as unknown.""",
)
@paths_argument
@click.option(
    "--layer",
    "layers",
    multiple=True,
    metavar="NAME|GLOB",
    help="Only layers with this name or matching this glob. Repeatable.",
)
@format_option(tuple(REPORTERS), "text")
def command(paths: tuple[str, ...], layers: tuple[str, ...], output_format: str) -> ExitCode:
    from ...analysis.explain import explain_artifact
    from ...analysis.select import NothingMatchedError, Selection
    from ...api import try_open
    from ...errors import Failure
    from ...render.explain import reporter as make_reporter

    selection = Selection(layers=layers)
    selection.validate()
    reporter = make_reporter(output_format)
    failed = False
    matched = 0
    unmatched: NothingMatchedError | None = None
    for path in expand_globs(paths):
        artifact = try_open(path)
        if isinstance(artifact, Failure):
            failed = True
            report_error(artifact.error)
            reporter.add(artifact, [])
            continue
        chosen = [layer for layer in artifact.layers if selection.layer_matches(layer)]
        matched += len(chosen)
        if selection.active and not chosen and artifact.layers and unmatched is None:
            unmatched = NothingMatchedError(selection.explain_empty(artifact.layers), path=artifact.path)
        reporter.add(artifact, explain_artifact(artifact, chosen))
    reporter.finish()
    if matched == 0 and unmatched is not None:  # the same message as inspect and export
        raise unmatched
    return ExitCode.ERROR if failed else ExitCode.OK
