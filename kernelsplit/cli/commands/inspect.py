"""``kernelsplit inspect``: every recurrent layer's gate matrices with shapes and statistics."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from ...render.inspect import REPORTERS
from .. import COMMANDS
from ..options import format_option, paths_argument, report_file_option, selection_options
from ..output import report_error


@click.command(
    "inspect",
    help=COMMANDS["inspect"]
    + """

PATHS are model files, folders and globs. A folder that is one artifact (SavedModel, unzipped
.keras) is read as one; other folders are walked like check walks them: model files are found by
content, the rest is skipped and listed. A named file that is not a model is an error.

Formats: text (a table per layer, fitted to the terminal; --wide for every column), summary (one
line per layer), json (schema kernelsplit.inspect/1).""",
)
@paths_argument
@selection_options
@format_option(tuple(REPORTERS), "text")
@click.option("--wide", is_flag=True, help="Show every column of the text formats, whatever the terminal's width.")
@click.option(
    "--histogram",
    is_flag=True,
    help="Add a unicode sparkline of each gate block's values (min to max) to the text table.",
)
@report_file_option
def command(
    paths: tuple[str, ...],
    layers: tuple[str, ...],
    gates: tuple[str, ...],
    parts: tuple[str, ...],
    output_format: str,
    wide: bool,
    histogram: bool,
    output: str | None,
) -> ExitCode:
    """Show every recurrent layer's gate matrices with shapes and statistics."""
    from ...analysis.select import NothingMatchedError, Selection
    from ...api import try_open
    from ...discover import Skipped, discover
    from ...errors import KernelsplitError, NotAModelError, NotFoundError, OutputError, UsageError
    from ...model import Failure
    from ...render.inspect import reporter as make_reporter

    selection = Selection(layers, gates, parts)
    selection.validate()
    if histogram and output_format != "text":
        raise UsageError(
            f"--histogram adds a column to the text table; it has no meaning for --output-format {output_format}"
        )
    found = discover(paths)
    handle = None
    if output:
        try:
            handle = open(output, "w", encoding="utf-8")  # noqa: SIM115 - closed below, also on errors
        except OSError as exc:
            raise OutputError(f"cannot write the report: {exc.strerror or exc}", path=output) from None
    try:
        reporter = make_reporter(output_format, handle, wide=wide)
        if histogram:
            from ...render.inspect.text import InspectTextReporter

            assert isinstance(reporter, InspectTextReporter)
            reporter.histogram = True
        failed = False
        matched = 0
        unmatched: tuple[str, str] | None = None
        skipped = list(found.skipped)
        for candidate in found.candidates:
            if candidate.nothing:
                missing = NotFoundError(candidate.nothing, path=candidate.path)
                report_error(missing)
                reporter.add(Failure(candidate.path, missing), [])
                failed = True
                continue
            artifact = try_open(candidate.path)
            chosen = []
            if isinstance(artifact, Failure):
                if isinstance(artifact.error, NotAModelError) and not candidate.explicit:
                    skipped.append(Skipped(candidate.path, artifact.error.message, "not-a-model"))
                    continue
                failed = True
                report_error(artifact.error)
            else:
                chosen = selection.apply(artifact)
                matched += len(chosen)
                if selection.active and not chosen and artifact.layers and unmatched is None:
                    unmatched = (artifact.path, selection.explain_empty(artifact.layers))
            reporter.add(artifact, chosen)  # rendered now; the arrays are dropped with the artifact
        error: KernelsplitError | None = None
        if selection.active and matched == 0 and unmatched is not None:
            error = NothingMatchedError(unmatched[1], path=unmatched[0])
        elif not found.candidates:
            error = NotFoundError("no model file found in " + " ".join(paths))
        reporter.finish(skipped, error)
    finally:
        if handle is not None:
            handle.close()
    if error is not None:
        raise error
    return ExitCode.ERROR if failed else ExitCode.OK
