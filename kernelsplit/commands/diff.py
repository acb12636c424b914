"""``kernelsplit diff OLD NEW``: what changed between two artifacts, gate by gate."""

from __future__ import annotations

import sys

import click

from .. import exitcodes
from ..cli import COMMANDS, report_error
from ..cli_options import format_option


@click.command(
    "diff",
    help=COMMANDS["diff"]
    + """

Per layer, part and gate: identical (same digest) or changed, with the relative Frobenius change
|new - old| / |old| and the max absolute change; shape, dtype and config changes; layers added or
removed. Works across formats (.h5 vs .keras). Exit codes: 0 no breaking change, 1 a shape
changed, a layer disappeared or a drift exceeds --max-drift, 2 unreadable file / usage / config.""",
)
@click.argument("old", type=click.Path(path_type=str))
@click.argument("new", type=click.Path(path_type=str))
@format_option(("text", "json", "markdown", "github"), "text")
@click.option(
    "--max-drift",
    type=click.FloatRange(min=0.0),
    default=None,
    metavar="X",
    help="Fail when a block's relative change exceeds X (default: config's diff.max-drift, else never).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=str),
    metavar="FILE",
    help="Use this pyproject.toml / kernelsplit.toml instead of searching for one.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=str),
    metavar="FILE",
    help="Write the report to FILE instead of stdout.",
)
def command(
    old: str, new: str, output_format: str, max_drift: float | None, config_path: str | None, output: str | None
) -> None:
    from ..analysis.diff import diff_artifacts
    from ..api import try_open
    from ..render.diff_base import reporter
    from ._report import emit, load_config_or_exit

    config = load_config_or_exit(config_path)
    artifacts = [try_open(path) for path in (old, new)]
    failed = [a for a in artifacts if a.error is not None]
    for artifact in failed:
        report_error(artifact.path, artifact.error)
    if failed:
        sys.exit(exitcodes.ERROR)
    report = diff_artifacts(*artifacts, max_drift=max_drift if max_drift is not None else config.max_drift)
    emit(reporter(output_format), report, output, output_format)
    sys.exit(report.exit_code)
