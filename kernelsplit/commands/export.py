"""``kernelsplit export``: write each gate matrix on its own, or in PyTorch / ONNX layout."""

from __future__ import annotations

import sys

import click

from .. import exitcodes
from ..cli import COMMANDS, report_error
from ..cli_options import selection_options
from ..errors import UsageError

FORMATS = ("npy", "npz", "csv", "json", "safetensors")
LAYOUTS = ("keras", "pytorch", "onnx")


@click.command(
    "export",
    help=COMMANDS["export"]
    + """

\b
Layouts: keras   one array per (layer, part, gate), the blocks inspect shows
         pytorch a torch.nn.LSTM/GRU/RNN state dict per layer (Bidirectional: *_reverse)
         onnx    W, R, B of an ONNX LSTM/GRU/RNN node (Bidirectional: one node)
Every export writes manifest.json (schema kernelsplit.export-manifest/1) beside the arrays.
The output folder appears only when complete; existing exports are replaced only with --force.""",
)
@click.argument("path", type=click.Path(path_type=str))
@selection_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="npy",
    show_default=True,
    help="File format (npz/safetensors: one file per layer; others: one file per array).",
)
@click.option("--layout", type=click.Choice(LAYOUTS), default="keras", show_default=True, help="Array layout.")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=str),
    default=None,
    help="Output folder [default: ./<input stem>-<layout>-<format>].",
)
@click.option("--force", is_flag=True, help="Replace an existing export in the output folder.")
@click.option(
    "--skip-unsupported",
    is_flag=True,
    help="Export the layers the layout can hold and list the others in the manifest, "
    "instead of refusing the whole export.",
)
def command(
    path: str,
    layers: tuple[str, ...],
    gates: tuple[str, ...],
    parts: tuple[str, ...],
    fmt: str,
    layout: str,
    output: str | None,
    force: bool,
    skip_unsupported: bool,
) -> None:
    from ..analysis.select import Selection
    from ..api import try_open
    from ..errors import KernelsplitError
    from ..export import export_artifact

    selection = Selection(layers, gates, parts)
    try:
        selection.validate()
    except UsageError as exc:
        raise click.UsageError(exc.message) from None
    artifact = try_open(path)
    if artifact.error is not None:
        report_error(path, artifact.error)
        sys.exit(exitcodes.ERROR)
    try:
        result = export_artifact(
            artifact,
            out=output,
            layout=layout,
            fmt=fmt,
            selection=selection,
            force=force,
            skip_unsupported=skip_unsupported,
        )
    except KernelsplitError as exc:
        report_error(path, exc)
        sys.exit(exitcodes.ERROR)
    except Exception as exc:  # an array no writer anticipated: one line, nothing half-written kept
        report_error(path, KernelsplitError(f"export failed ({type(exc).__name__}: {exc})"))
        sys.exit(exitcodes.ERROR)
    for refusal in result.refused:
        click.echo(f"kernelsplit: warning: {path}: skipped {refusal.layer}: {refusal.reason}", err=True)
    n_arrays = len(result.manifest["arrays"])
    click.echo(
        f"wrote {n_arrays} array{'s' if n_arrays != 1 else ''} in {len(result.files)} "
        f"file{'s' if len(result.files) != 1 else ''} + manifest.json to {result.output}"
    )
    sys.exit(exitcodes.OK)
