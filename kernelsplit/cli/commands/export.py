"""``kernelsplit export``: write each gate matrix on its own, or in PyTorch / ONNX layout."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from .. import COMMANDS
from ..options import RegistryChoice, selection_options
from ..output import report_line, report_warning


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
    type=RegistryChoice("kernelsplit.export", "FORMATS"),
    default="npy",
    show_default=True,
    help="File format (npz/safetensors/c: one file per layer, c a C header of static const arrays; "
    "others: one file per array).",
)
@click.option(
    "--layout",
    type=RegistryChoice("kernelsplit.export", "LAYOUTS"),
    default="keras",
    show_default=True,
    help="Array layout.",
)
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
    "--assume-activations",
    "assume",
    type=RegistryChoice("kernelsplit.analysis.assume", "Assumption"),
    default=None,
    help="For layers whose file stores no config (weights-only files): take activation tanh, "
    "go_backwards from the direction, and this recurrent activation (generation-default: the "
    "default of the Keras that wrote the file). Recorded in the manifest. Without it such layers "
    "are refused by the pytorch and onnx layouts.",
)
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
    assume: str | None,
    skip_unsupported: bool,
) -> ExitCode:
    from ...analysis.select import Selection
    from ...api import open_artifact
    from ...errors import KernelsplitError
    from ...export import export_artifact

    selection = Selection(layers, gates, parts)
    selection.validate()
    artifact = open_artifact(path)
    try:
        result = export_artifact(
            artifact,
            out=output,
            layout=layout,
            fmt=fmt,
            selection=selection,
            force=force,
            skip_unsupported=skip_unsupported,
            assume=assume,
        )
    except KernelsplitError as exc:
        raise exc.at(path) from None
    for refusal in result.refused:
        report_warning(path, f"skipped {refusal.layer}: {refusal.reason}")
    n_arrays = len(result.manifest["arrays"])
    report_line(
        f"wrote {n_arrays} array{'s' if n_arrays != 1 else ''} in {len(result.files)} "
        f"file{'s' if len(result.files) != 1 else ''} + manifest.json to {result.output}"
    )
    return ExitCode.OK
