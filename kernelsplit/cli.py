"""The command line: a thin layer over the library (parsing here, work in kernelsplit.*)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import click

from . import exitcodes
from ._version import __version__
from .errors import KernelsplitError


def report_error(path: str, error: Exception) -> None:
    """The one-line error format: ``kernelsplit: error: PATH: reason`` on stderr."""
    message = error.message if isinstance(error, KernelsplitError) else str(error)
    click.echo(f"kernelsplit: error: {path}: {message}", err=True)


#: Sub-commands live in kernelsplit/commands/<name>.py and are imported only when invoked, so
#: ``kernelsplit inspect`` never pays for the exporters' or the rule engine's imports.
COMMANDS = {
    "inspect": "Show every recurrent layer's gate matrices with shapes and statistics.",
    "export": "Write each gate matrix on its own, or in PyTorch / ONNX layout.",
    "check": "Check model artifacts for broken or suspicious weights (a CI gate).",
    "diff": "Compare two artifacts gate by gate.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if importlib.util.find_spec(f"kernelsplit.commands.{name}")]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not importlib.util.find_spec(f"kernelsplit.commands.{cmd_name}"):
            return None
        module = importlib.import_module(f"kernelsplit.commands.{cmd_name}")
        return module.command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kernelsplit")
def cli() -> None:
    """Read saved Keras models without TensorFlow and split recurrent kernels into gates.

    Exit codes: 0 success; 1 findings (check, diff); 2 unreadable file, usage or config error;
    3 no model file found (check).
    """


def main() -> None:
    """Console-script entry: no traceback ever reaches the user unless KERNELSPLIT_DEBUG is set."""
    for stream in (sys.stdout, sys.stderr):  # an ASCII or cp1252 console must not crash a report
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    try:
        cli.main(prog_name="kernelsplit", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("KERNELSPLIT_DEBUG"):
            raise
        click.echo(
            f"kernelsplit: error: internal error: {type(exc).__name__}: {exc} "
            "(set KERNELSPLIT_DEBUG=1 for a traceback)",
            err=True,
        )
        sys.exit(exitcodes.ERROR)
