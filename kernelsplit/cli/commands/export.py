"""``kernelsplit export``: write each gate matrix on its own, or in PyTorch / ONNX layout."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from .. import COMMANDS
from ..options import RegistryChoice, isolation_options, make_limits, selection_options
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
@isolation_options
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
    jobs: int | None,
    timeout: float,
    max_memory: str,
) -> ExitCode:
    from ...analysis.select import Selection
    from ...batch.pool import Call, run_one, warm
    from ...batch.results import ExportSummary

    limits = make_limits(min(jobs, 1) if jobs is not None else 1, timeout, max_memory)
    warm(limits, 1)
    selection = Selection(layers, gates, parts)
    selection.validate()
    options = {
        "out": output,
        "layout": layout,
        "fmt": fmt,
        "selection": selection,
        "force": force,
        "skip_unsupported": skip_unsupported,
        "assume": assume,
    }
    # Reading and writing happen in one worker under the limits: the file is never opened here.
    result: ExportSummary = run_one(Call("kernelsplit.batch.steps:export_file", (path, options), path), limits)
    for layer, reason in result.refused:
        report_warning(path, f"skipped {layer}: {reason}")
    report_line(
        f"wrote {result.arrays} array{'s' if result.arrays != 1 else ''} in {result.files} "
        f"file{'s' if result.files != 1 else ''} + manifest.json to {result.output}"
    )
    return ExitCode.OK
