"""The command line: a thin shell over the library (parsing here, work in kernelsplit.*).

Commands return an :class:`~kernelsplit.exitcodes.ExitCode` or raise a
:class:`~kernelsplit.errors.KernelsplitError`; :func:`_run` is the one place that turns either
into the exit status, and :meth:`KernelsplitGroup.main` the only caller of ``sys.exit``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

import click

from .._version import __version__
from ..errors import InternalError, KernelsplitError
from ..exitcodes import ExitCode
from .output import report_error, silence_stdout

#: Sub-commands live in kernelsplit/cli/commands/<name>.py and are imported only when invoked, so
#: ``kernelsplit inspect`` never pays for the exporters' or the rule engine's imports.
COMMANDS = {
    "inspect": "Show every recurrent layer's gate matrices with shapes and statistics.",
    "export": "Write each gate matrix on its own, or in PyTorch / ONNX layout.",
    "check": "Check model artifacts for broken or suspicious weights (a CI gate).",
    "diff": "Compare two artifacts gate by gate.",
    "explain": "Show the equations Keras computes for each layer, every term bound to its place in the file.",
    "verify": "Check kernelsplit's split and forward pass against your own Keras (needs kernelsplit[keras]).",
    "rule": "Explain a check rule: what it finds, why, its threshold and how to change it.",
    "plot": "Draw every gate block as a heatmap, and its values as a distribution (PNG/SVG).",
    "report": "Write one self-contained HTML report: summary, maths, check findings and figures.",
}


def _command_module(name: str) -> str:
    return f"{__name__}.commands.{name}"


class KernelsplitGroup(click.Group):
    """Lazy sub-commands, and the one handler that maps results and errors to exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if importlib.util.find_spec(_command_module(name))]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not importlib.util.find_spec(_command_module(cmd_name)):
            return None
        command: click.Command = importlib.import_module(_command_module(cmd_name)).command
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """A reader that closed our stdout (``| head``) ends the run quietly with exit 0: the output
        was cut short on purpose (click alone would exit 1, the code for findings)."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            silence_stdout()
            return ExitCode.OK

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        kwargs.setdefault("prog_name", "kernelsplit")
        sys.exit(_run(lambda: super(KernelsplitGroup, self).main(*args, **kwargs)))


def _run(invoke: Any) -> int:
    """Run the command line and return its exit status; print errors the one way they are printed."""
    try:
        result = invoke()
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.ClickException as exc:  # click's own parsing errors keep click's format
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            return 130
        click.echo("Aborted!", err=True)
        return 1
    except KernelsplitError as exc:
        report_error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("KERNELSPLIT_DEBUG"):
            raise
        internal = InternalError(
            f"internal error: {type(exc).__name__}: {exc} (set KERNELSPLIT_DEBUG=1 for a traceback)"
        )
        report_error(internal)
        return int(internal.exit_code)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


@click.group(cls=KernelsplitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kernelsplit")
def cli() -> None:
    """Read saved Keras models without TensorFlow and split recurrent kernels into gates.

    Exit codes: 0 success; 1 findings (check, diff, verify); 2 unreadable file, usage or config
    error; 3 no model file found (check); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).

    Shell completion (bash, zsh, fish): eval "$(_KERNELSPLIT_COMPLETE=bash_source kernelsplit)".
    """


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM ends the run like Ctrl-C does: through ``finally`` blocks, which stop the workers."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry: no traceback ever reaches the user unless KERNELSPLIT_DEBUG is set."""
    import signal

    # Here, not in the library: a program that imports kernelsplit keeps its own SIGTERM handling.
    signal.signal(signal.SIGTERM, _terminate)
    for stream in (sys.stdout, sys.stderr):  # an ASCII or cp1252 console must not crash a report
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    cli.main()
