"""``kernelsplit verify``: kernelsplit's split and forward pass against the installed Keras."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from ...render.verify import REPORTERS
from .. import COMMANDS
from ..options import expand_globs, format_option, paths_argument, report_file_option
from ..output import emit, report_error


@click.command(
    "verify",
    help=COMMANDS["verify"]
    + """

\b
Each file is loaded by real Keras in a separate process (Keras 3 files with keras 3, older ones with
tf-keras; safe_mode on), and for every recurrent layer every gate block's digest is compared with
kernelsplit's split and kernelsplit's reference forward pass with Keras's own output on a seeded
random input. Exit 0: everything agrees; 1: a mismatch; 2: Keras cannot load a file (weights-only
files, files with executable layers unless --trust-code) or kernelsplit cannot read it.""",
)
@paths_argument
@click.option(
    "--trust-code",
    is_flag=True,
    help="Let Keras load files whose layers carry code (Lambda, custom objects): Keras runs that code.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random inputs.")
@format_option(tuple(REPORTERS), "text")
@report_file_option
def command(paths: tuple[str, ...], trust_code: bool, seed: int, output_format: str, output: str | None) -> ExitCode:
    from ...errors import NotFoundError, UnsupportedError
    from ...render.verify import reporter as make_reporter
    from ...verify import verify

    report = verify(expand_globs(paths), trust_code=trust_code, seed=seed)
    for checked in report.files:
        if checked.status == "error":
            report_error(checked.failure or NotFoundError(checked.reason or "unreadable", path=checked.path))
        elif checked.status == "not-loaded":
            report_error(UnsupportedError(checked.reason or "Keras cannot load it", path=checked.path))
    emit(make_reporter(output_format), report, output)
    return report.exit_code
