"""``kernelsplit check``: run the rules over model artifacts and exit non-zero on findings (a CI gate)."""

from __future__ import annotations

import click

from ...check.levels import FAIL_ON_LEVELS
from ...exitcodes import ExitCode
from ...render.check import REPORTERS
from .. import COMMANDS
from ..options import config_option, format_option, report_file_option
from ..output import report_error


class CheckCommand(click.Command):
    """Lists the rules in ``--help`` from the rule registry (imported only when help is shown)."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ...check.rules import RULES

        super().format_help_text(ctx, formatter)
        with formatter.section("Rules"):
            formatter.write_dl([(rule.code, f"{rule.name}: {rule.summary}") for rule in RULES])


@click.command(
    "check",
    cls=CheckCommand,
    help=COMMANDS["check"]
    + """

PATHS are model files, folders (searched recursively for model files, by content) and globs.
Configuration: [tool.kernelsplit] in pyproject.toml or kernelsplit.toml, found from the current
folder upward, or --config.

Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 unreadable file / usage / config
error, 3 no model file found.""",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@config_option
@format_option(tuple(REPORTERS), "text")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON_LEVELS),
    default=None,
    help="Lowest severity that fails the run (default: config's fail-on, else error).",
)
@report_file_option
def command(
    paths: tuple[str, ...], config_path: str | None, output_format: str, fail_on: str | None, output: str | None
) -> ExitCode:
    from ...check.config import load_config
    from ...check.engine import run_check
    from ...errors import KernelsplitError
    from ...render.check import reporter
    from ..output import emit

    config = load_config(config_path)
    report = run_check(paths, config, fail_on)
    for path, error in report.errors:
        report_error(error.at(path))
    emit(reporter(output_format), report, output, markdown_summary=output_format == "markdown")
    if report.exit_code == ExitCode.NO_INPUT:
        report_error(KernelsplitError("no model file found in " + " ".join(paths)))
    return ExitCode(report.exit_code)
