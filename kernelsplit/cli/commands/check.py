"""``kernelsplit check``: run the rules over model artifacts and exit non-zero on findings (a CI gate)."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from .. import COMMANDS
from ..options import format_option
from ..output import report_error

FORMATS = ("text", "json", "markdown", "sarif", "github")


@click.command(
    "check",
    help=COMMANDS["check"]
    + """

PATHS are model files, folders (searched recursively for model files, by content) and globs.
Configuration: [tool.kernelsplit] in pyproject.toml or kernelsplit.toml, found from the current
folder upward, or --config. Rules: KS101 non-finite, KS102 float16-overflow, KS103 abs-max,
KS104 dead-units, KS105 untrained, KS106 spectral-norm, KS107 forget-bias, KS108 config-mismatch,
KS109 inferred-layer, KS110 executable-layers, KS111 recurrent-untouched.

Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 unreadable file / usage / config
error, 3 no model file found.""",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=str),
    metavar="FILE",
    help="Use this pyproject.toml / kernelsplit.toml instead of searching for one.",
)
@format_option(FORMATS, "text")
@click.option(
    "--fail-on",
    type=click.Choice(("error", "warning", "info", "none")),
    default=None,
    help="Lowest severity that fails the run (default: config's fail-on, else error).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=str),
    metavar="FILE",
    help="Write the report to FILE instead of stdout.",
)
def command(
    paths: tuple[str, ...], config_path: str | None, output_format: str, fail_on: str | None, output: str | None
) -> ExitCode:
    from ...check.engine import run_check
    from ...config import load_config
    from ...errors import KernelsplitError
    from ...render.check_base import reporter
    from ..output import emit

    config = load_config(config_path)
    report = run_check(paths, config, fail_on)
    for path, error in report.errors:
        report_error(error.at(path))
    emit(reporter(output_format), report, output, markdown_summary=output_format == "markdown")
    if report.exit_code == ExitCode.NO_INPUT:
        report_error(KernelsplitError("no model file found in " + " ".join(paths)))
    return ExitCode(report.exit_code)
