"""Fixture records run through kernelsplit's own reference forward pass (``kernelsplit/forward.py``).

There is one forward-pass implementation, the library's; this module only maps a fixture leaf record
(its activations, flags and convolution, the oracle truth) and per-gate weight blocks
``{part: {gate: block}}`` onto it. The fixture generators use it to self-check every record against
the outputs Keras computed; the tests use the library's ``RecurrentLayer.forward`` directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kernelsplit.equations import Convolution, bind, cell_equations
from kernelsplit.forward import CellProgram, run
from kernelsplit.layouts import CELL_LAYOUTS
from kernelsplit.maths import Generation, activation

Params = Mapping[str, Mapping[str, np.ndarray]]

GATES: dict[str, tuple[str, ...]] = {kind: layout.gates for kind, layout in CELL_LAYOUTS.items()}

#: A fixture family's ``framework`` -> the generation whose activations it computes.
GENERATIONS = {"keras3": Generation.KERAS3, "tf_keras": Generation.TF_KERAS}


def _activation(name: str | None, framework: str) -> Any:
    found = activation(name or "linear", GENERATIONS[framework])
    if found is None:
        raise ValueError(f"reference_rnn: unsupported activation {name!r}")
    return found.function


def cell_program(record: Mapping[str, Any], params: Params, framework: str, go_backwards: bool) -> CellProgram:
    kind = record["cell"]
    blocks = {
        (part, gate): np.asarray(block, np.float64) for part, gates in params.items() for gate, block in gates.items()
    }
    if not record.get("use_bias", True):
        blocks = {key: block for key, block in blocks.items() if key[0] not in ("bias", "recurrent_bias")}
    conv = record.get("conv")
    convolution = None
    if conv is not None:
        kernel_size = tuple(blocks[("kernel", "i")].shape[:-2])
        convolution = Convolution(
            conv["rank"],
            kernel_size,
            tuple(conv["strides"]),
            conv["padding"],
            tuple(conv["dilation_rate"]),
            conv.get("data_format", "channels_last"),
        )
    activations = {"activation": _activation(record.get("activation"), framework)}
    if kind != "simple_rnn":
        activations["recurrent_activation"] = _activation(record.get("recurrent_activation"), framework)
    form = bind(cell_equations(kind, record.get("reset_after") if kind == "gru" else None), {p for p, _ in blocks})
    return CellProgram(
        record.get("key", kind), form, blocks, activations, int(record["units"]), go_backwards, convolution
    )


def run_record(record: Mapping[str, Any], x: np.ndarray, params: Sequence[Params], framework: str) -> np.ndarray:
    """Run a fixture leaf record: ``params`` has one entry per cell (one unless ``cells``)."""
    cells = record.get("cells") or [record]
    if len(cells) != len(params):
        raise ValueError(f"{record.get('key')}: {len(cells)} cells but {len(params)} param sets")
    backwards = bool(record["go_backwards"])
    programs = [cell_program(cell, p, framework, backwards) for cell, p in zip(cells, params, strict=True)]
    result = run(programs, x, return_sequences=bool(record["return_sequences"]))
    assert isinstance(result.output, np.ndarray)
    return result.output
