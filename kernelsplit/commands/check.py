"""``kernelsplit check``: run the rules over model artifacts and exit non-zero on findings (a CI gate)."""

from __future__ import annotations

import sys

import click

from .. import exitcodes
from ..cli import COMMANDS, report_error
from ..cli_options import format_option

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
) -> None:
    from ..check.engine import run_check
    from ..render.check_base import reporter
    from ._report import emit, load_config_or_exit

    config = load_config_or_exit(config_path)
    report = run_check(paths, config, fail_on)
    for path, error in report.errors:
        report_error(path, error)
    emit(reporter(output_format), report, output, output_format)
    if report.exit_code == exitcodes.NO_INPUT:
        click.echo("kernelsplit: error: no model file found in " + " ".join(paths), err=True)
    sys.exit(report.exit_code)
