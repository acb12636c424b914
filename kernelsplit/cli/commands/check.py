"""``kernelsplit check``: run the rules over model artifacts and exit non-zero on findings (a CI gate)."""

from __future__ import annotations

from typing import Any

import click

from ...check.levels import FAIL_ON_LEVELS
from ...exitcodes import ExitCode
from ...render.check import REPORTERS
from .. import COMMANDS
from ..options import (
    config_option,
    exit_zero_option,
    format_option,
    isolation_options,
    make_limits,
    quiet_option,
    report_file_option,
    rule_selection_options,
)
from ..output import report_error


class CheckCommand(click.Command):
    """Lists the rules in ``--help`` from the rule registry (imported only when help is shown)."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ...check.rules import RULES

        super().format_help_text(ctx, formatter)
        with formatter.section("Rules (kernelsplit rule CODE explains one)"):
            formatter.write_dl([(rule.code, f"{rule.name}: {rule.summary}") for rule in RULES])


@click.command(
    "check",
    cls=CheckCommand,
    help=COMMANDS["check"]
    + """

PATHS are model files, folders (walked recursively; model files are found by content) and globs;
default: the current folder. Files that are not Keras models are skipped and listed (named ones
too, unless --strict); a Git LFS pointer where a model should be is an error.
Configuration: [tool.kernelsplit] in pyproject.toml or kernelsplit.toml, found from the current
folder upward, or --config; the command line's options beat it (see --show-settings).
Each file is read in a worker process under --timeout and --max-memory; the text, concise and
github formats print each file's findings as it is checked.

Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 unreadable file / usage / config
error, 3 no model file found.""",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@config_option
@format_option(tuple(REPORTERS), "text")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON_LEVELS),
    default=None,
    help="Lowest severity that fails the run (default: config's fail-on, else error).",
)
@rule_selection_options
@report_file_option
@quiet_option
@exit_zero_option
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--strict", is_flag=True, help="A file named on the command line that is not a model is an error.")
@click.option(
    "--show-settings",
    is_flag=True,
    help="Print the settings in effect (every rule, threshold and severity) and where each came from, then exit.",
)
@isolation_options
def command(
    paths: tuple[str, ...],
    config_path: str | None,
    output_format: str,
    fail_on: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    settings: tuple[str, ...],
    output: str | None,
    quiet: bool,
    exit_zero: bool,
    statistics: bool,
    strict: bool,
    show_settings: bool,
    jobs: int | None,
    timeout: float,
    max_memory: str,
) -> ExitCode:
    from ...check.config import apply_overrides, load_config
    from ...errors import KernelsplitError, UsageError
    from ...render.check import HUMAN_FORMATS, reporter

    if statistics and output_format not in HUMAN_FORMATS:
        raise UsageError(f"--statistics applies to the {', '.join(HUMAN_FORMATS)} formats, not {output_format}")
    if show_settings and output_format not in HUMAN_FORMATS:
        raise UsageError(f"--show-settings prints text; it has no {output_format} form (leave out --output-format)")
    config = apply_overrides(
        load_config(config_path),
        select=select,
        extend_select=extend_select,
        ignore=ignore,
        settings=settings,
        fail_on=fail_on,
    )
    if show_settings:
        from ...render.check.settings import write_settings
        from ..output import to_stdout

        to_stdout(lambda: write_settings(config))
        return ExitCode.OK
    paths = paths or (".",)
    limits = make_limits(jobs, timeout, max_memory)
    report = _run(
        paths, config, reporter(output_format, quiet=quiet, statistics=statistics), output, strict, exit_zero, limits
    )
    if report.exit_code == ExitCode.NO_INPUT:
        report_error(KernelsplitError("no model file found in " + " ".join(paths)))
    return ExitCode(report.exit_code)


def _run(
    paths: tuple[str, ...], config: Any, chosen: Any, output: str | None, strict: bool, exit_zero: bool, limits: Any
) -> Any:
    """Check every file in a worker (``check_file``), fold the results in input order, print each
    file's findings as it comes (streaming formats), then the rest of the report."""
    from contextlib import closing

    from ...batch.pool import Call, run_calls, warm
    from ...check.engine import CheckResult, discover, new_report
    from ..output import emit, output_stream, to_stdout
    from ..progress import progress

    report = new_report(config, exit_zero=exit_zero)
    found = discover(paths)
    report.skipped = list(found.skipped)
    report.named_files = any(c.explicit and not c.nothing for c in found.candidates)
    candidates = [c for c in found.candidates if not c.nothing]
    warm(limits, len(candidates))
    step = "kernelsplit.check.engine:check_file"
    calls = [Call(step, (c.path, config, c.explicit, strict), c.path) for c in candidates]
    required = {c.path: c.explicit and strict for c in candidates}
    streaming = chosen.streaming
    with (
        output_stream(output if streaming else None) as stream,
        progress(len(calls), "check", bool(output)) as advance,
        closing(run_calls(calls, limits, advance)) as outcomes,
    ):
        for outcome in outcomes:
            path = outcome.call.path
            result: CheckResult = outcome.value or CheckResult(path, required[path], error=outcome.error)
            report.add(result)
            if not result.skipped:
                for error in ([result.error] if result.error else []) + list(result.failures):
                    report_error(error.at(path))
            if streaming and not result.skipped and result.error is None:
                to_stdout(lambda: chosen.write_file(report, result, stream))  # noqa: B023 (called now)
        if streaming:
            to_stdout(lambda: chosen.write_end(report, stream))
    if not streaming:
        emit(chosen, report, output, markdown_summary=chosen.name == "markdown")
    return report
