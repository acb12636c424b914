"""``kernelsplit inspect``: every recurrent layer's gate matrices with shapes and statistics."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from ...render.inspect import REPORTERS
from .. import COMMANDS
from ..options import (
    format_option,
    isolation_options,
    make_limits,
    paths_argument,
    report_file_option,
    selection_options,
)
from ..output import report_error


@click.command(
    "inspect",
    help=COMMANDS["inspect"]
    + """

PATHS are model files, folders and globs. A folder that is one artifact (SavedModel, unzipped
.keras) is read as one; other folders are walked like check walks them: model files are found by
content, the rest is skipped and listed. A named file that is not a model is an error.

Formats: text (a table per layer, fitted to the terminal; --wide for every column), summary (one
line per layer), json (schema kernelsplit.inspect/1), jsonl (one artifacts[] entry of that schema
per line, written as soon as it is read).

Each file is read in a worker process under --timeout and --max-memory (--jobs at once); the
output keeps the order of PATHS.""",
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
@isolation_options
def command(
    paths: tuple[str, ...],
    layers: tuple[str, ...],
    gates: tuple[str, ...],
    parts: tuple[str, ...],
    output_format: str,
    wide: bool,
    histogram: bool,
    output: str | None,
    jobs: int | None,
    timeout: float,
    max_memory: str,
) -> ExitCode:
    """Show every recurrent layer's gate matrices with shapes and statistics."""
    import sys
    from contextlib import closing

    from ...analysis.select import NothingMatchedError, Selection
    from ...batch.pool import Call, run_calls, warm
    from ...batch.results import InspectResult
    from ...discover import Skipped, discover
    from ...errors import Failure, KernelsplitError, NotAModelError, NotFoundError, OutputError, UsageError
    from ...render.inspect import reporter as make_reporter
    from ..progress import progress

    selection = Selection(layers, gates, parts)
    selection.validate()
    if histogram and output_format != "text":
        raise UsageError(
            f"--histogram adds a column to the text table; it has no meaning for --output-format {output_format}"
        )
    limits = make_limits(jobs, timeout, max_memory)
    found = discover(paths)
    readable = [c for c in found.candidates if not c.nothing]
    warm(limits, len(readable))  # the workers import numpy and h5py while this process goes on
    tty = bool(getattr(sys.stdout, "isatty", lambda: False)()) and not output
    step = "kernelsplit.batch.steps:inspect_file"
    calls = [
        Call(step, (c.path, (layers, gates, parts), output_format, tty, wide, histogram), c.path, terminal=tty)
        for c in readable
    ]
    handle = None
    if output:
        try:
            handle = open(output, "w", encoding="utf-8")  # noqa: SIM115 - closed below, also on errors
        except OSError as exc:
            raise OutputError(f"cannot write the report: {exc.strerror or exc}", path=output) from None
    try:
        reporter = make_reporter(output_format, handle, wide=wide)
        failed = False
        matched = 0
        unmatched: tuple[str, str] | None = None
        skipped = list(found.skipped)
        with (
            progress(len(calls), "inspect", bool(output)) as advance,
            closing(run_calls(calls, limits, advance)) as outcomes,
        ):
            for candidate in found.candidates:
                if candidate.nothing:
                    missing = NotFoundError(candidate.nothing, path=candidate.path)
                    report_error(missing)
                    reporter.add(Failure(candidate.path, missing), [])
                    failed = True
                    continue
                outcome = next(outcomes)  # in input order, as each file (and every earlier one) is read
                result: InspectResult = outcome.value or InspectResult(candidate.path, error=outcome.error)
                if isinstance(result.error, NotAModelError) and not candidate.explicit:
                    skipped.append(Skipped(candidate.path, result.error.message, "not-a-model"))
                    continue
                if result.error is not None:
                    failed = True
                    report_error(result.error.at(candidate.path))
                if outcome.value is None:  # no answer from the worker (timeout, crash): nothing rendered
                    reporter.add(Failure(candidate.path, result.error or KernelsplitError("no answer")), [])
                else:
                    reporter.add_digest(result.digest)
                matched += result.matched
                if result.unmatched is not None and unmatched is None:
                    unmatched = (candidate.path, result.unmatched)
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
