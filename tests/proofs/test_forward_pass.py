"""Forward pass from kernelsplit's gate blocks must reproduce Keras's own outputs.

For every ``fixtures/*/manifest.json``, every file and every leaf record: open the file with
kernelsplit, find the layer whose kernel digest is the record's ``kernel_sha256``, rebuild the layer
in numpy (tests/reference_rnn.py) from the per-gate arrays and compare with the oracle output.
Hyper-parameters (activations, go_backwards, ...) come from the record (the oracle truth), only the
weights come from kernelsplit. A swapped gate pair must *not* match, which shows the test can fail.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import pytest
from reference_rnn import run_record
from support.fixtures import (
    ATOL,
    Params,
    cells_of,
    file_cases,
    find_layer,
    open_cached,
    oracle,
    params_of,
    record_cases,
)

#: Gate pair swapped by the negative control, per cell kind (SimpleRNN has a single gate).
SWAP = {"lstm": ("f", "c"), "conv_lstm": ("f", "c"), "gru": ("z", "r")}


def _case(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any]
) -> tuple[list[Params], np.ndarray, np.ndarray, float]:
    art = open_cached(str(folder / entry["path"]))
    params = [
        params_of(find_layer(art, cell["kernel_sha256"], f"{record['key']}[{i}]"))
        for i, cell in enumerate(cells_of(record))
    ]
    arrays = oracle(str(folder / model["oracle"]))
    x, want = arrays[f"{record['key']}/input"], arrays[f"{record['key']}/output"]
    atol = max(ATOL[c.get("dtype", "float32")] for c in cells_of(record))
    return params, x, want, atol


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases())
def test_forward_pass_matches_keras(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any]
) -> None:
    params, x, want, atol = _case(folder, entry, model, record)
    got = run_record(record, x, params, model["framework"])
    assert got.shape == want.shape
    err = float(np.max(np.abs(got - want)))
    assert err <= atol, f"max |numpy - keras| = {err:.3g} > {atol}"


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases())
def test_swapped_gates_do_not_match(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any]
) -> None:
    """Negative control: the same comparison with two gates swapped in the first cell fails.

    SimpleRNN has a single gate; its control transposes the (square) recurrent kernel instead.
    """
    params, x, want, atol = _case(folder, entry, model, record)
    kind = cells_of(record)[0]["cell"]
    if kind in SWAP:
        a, b = SWAP[kind]
        what = f"swapping {a}<->{b}"
        params[0] = {part: {**gates, a: gates[b], b: gates[a]} for part, gates in params[0].items()}
    else:
        what = "transposing recurrent_kernel"
        params[0]["recurrent_kernel"] = {g: u.T for g, u in params[0]["recurrent_kernel"].items()}
    got = run_record(record, x, params, model["framework"])
    err = float(np.max(np.abs(got - want)))
    # Must fail the real test's bound clearly (bfloat16 GRU: 0.18 against atol 0.03).
    assert err > 3 * atol, f"{what} changed the output by only {err:.3g}"


@pytest.mark.parametrize(("folder", "entry", "model"), file_cases())
def test_layer_inventory(folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any]) -> None:
    """kernelsplit reports exactly one layer per recorded cell/direction, with the right kind."""
    art = open_cached(str(folder / entry["path"]))
    cells = [cell for record in model["layers"] for cell in cells_of(record)]
    assert len(art.layers) == len(cells), [layer.name for layer in art.layers]
    for cell in cells:
        layer = find_layer(art, cell["kernel_sha256"], cell["keras_name"])
        assert (layer.cell, layer.units) == (cell["cell"], cell["units"]), layer.name
