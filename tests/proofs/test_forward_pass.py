"""The library's reference forward pass (``RecurrentLayer.forward``) reproduces Keras's own outputs.

For every ``fixtures/*/manifest.json``, every file and every leaf record: open the file with
kernelsplit, find the layer whose kernel digest is the record's ``kernel_sha256`` and run
``layer.forward`` on the oracle input — with the maths kernelsplit read from the file itself
(activations resolved for the generation that wrote it, go_backwards, GRU form, convolution), which
must also equal the record's. Files without a config store no maths: the forward pass must refuse
them, and then runs with the record's maths filled in explicitly. Negative controls: two gates
swapped, or ``hard_sigmoid`` with the other generation's slope, must *not* match.
"""

from __future__ import annotations

import pathlib
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from support.fixtures import ATOL, cells_of, file_cases, find_layer, open_cached, oracle, record_cases

import kernelsplit.forward
from kernelsplit.equations import Convolution
from kernelsplit.errors import UnknownMathsError
from kernelsplit.maths import Generation, Writer
from kernelsplit.model import CellMaths, Fact, Origin, RecurrentLayer

#: Gate pair swapped by the negative control, per cell kind (SimpleRNN has a single gate).
SWAP = {"lstm": ("f", "c"), "conv_lstm": ("f", "c"), "gru": ("z", "r")}
GENERATION = {"keras3": Generation.KERAS3, "tf_keras": Generation.TF_KERAS}


def _record_maths(layer: RecurrentLayer, cell: dict[str, Any], record: dict[str, Any], framework: str) -> CellMaths:
    """The record's maths (the oracle truth) as explicit assumptions, for files that store none."""
    conv = cell.get("conv")
    convolution: Fact[Convolution] = Fact()
    if conv is not None:
        kernel_size = layer.tensor("kernel", "i").shape[:-2]
        convolution = Fact(
            Convolution(
                conv["rank"],
                kernel_size,
                tuple(conv["strides"]),
                conv["padding"],
                tuple(conv["dilation_rate"]),
                conv["data_format"],
            ),
            Origin.ASSUMED,
        )
    reset_after = cell.get("reset_after")
    return replace(
        layer.maths,
        activation=Fact(cell["activation"], Origin.ASSUMED),
        recurrent_activation=Fact(cell.get("recurrent_activation"), Origin.ASSUMED),
        reset_after=Fact(reset_after, Origin.ASSUMED) if reset_after is not None else layer.maths.reset_after,
        go_backwards=Fact(record["go_backwards"], Origin.ASSUMED),
        convolution=convolution,
        writer=Writer(GENERATION[framework]),
    )


def _assert_maths_as_recorded(layer: RecurrentLayer, cell: dict[str, Any], record: dict[str, Any]) -> None:
    maths = layer.maths
    assert maths.activation.value == cell["activation"], layer.name
    if cell["cell"] != "simple_rnn":
        assert maths.recurrent_activation.value == cell["recurrent_activation"], layer.name
    assert maths.go_backwards.value == record["go_backwards"], layer.name
    if cell["cell"] == "gru":
        assert maths.reset_after.value == cell["reset_after"], layer.name
    assert maths.use_bias.value == cell["use_bias"], layer.name
    if cell.get("conv"):
        convolution = maths.convolution.value
        assert convolution is not None, layer.name
        conv = cell["conv"]
        assert (convolution.rank, convolution.padding, convolution.data_format) == (
            conv["rank"],
            conv["padding"],
            conv["data_format"],
        )
        assert (list(convolution.strides), list(convolution.dilation_rate)) == (conv["strides"], conv["dilation_rate"])


def _layers(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any]
) -> list[RecurrentLayer]:
    """kernelsplit's layers for the record's cells, with the file's maths or (no config) the record's."""
    art = open_cached(str(folder / entry["path"]))
    layers = []
    for index, cell in enumerate(cells_of(record)):
        layer = find_layer(art, cell["kernel_sha256"], f"{record['key']}[{index}]")
        if entry.get("has_config", True):
            _assert_maths_as_recorded(layer, cell, record)
        else:
            with pytest.raises(UnknownMathsError, match="not stored in this file"):
                layer.forward(np.zeros((1, 1, layer.input_dim or 1)))
            layer = replace(layer, maths=_record_maths(layer, cell, record, model["framework"]))
        layers.append(layer)
    return layers


def _run(layers: list[RecurrentLayer], x: np.ndarray, record: dict[str, Any]) -> np.ndarray:
    sequences = bool(record["return_sequences"])
    if len(layers) == 1:
        result = layers[0].forward(x, return_sequences=sequences)
    else:
        result = kernelsplit.forward.forward(layers, x, return_sequences=sequences)
    assert isinstance(result.output, np.ndarray)
    return result.output


def _oracle(
    folder: pathlib.Path, model: dict[str, Any], record: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, float]:
    arrays = oracle(str(folder / model["oracle"]))
    atol = max(ATOL[c.get("dtype", "float32")] for c in cells_of(record))
    return arrays[f"{record['key']}/input"], arrays[f"{record['key']}/output"], atol


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases())
def test_forward_pass_matches_keras(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any]
) -> None:
    layers = _layers(folder, entry, model, record)
    x, want, atol = _oracle(folder, model, record)
    got = _run(layers, x, record)
    assert got.shape == want.shape
    assert got.dtype == np.float64
    err = float(np.max(np.abs(got - want)))
    assert err <= atol, f"max |numpy - keras| = {err:.3g} > {atol}"


def _swapped(layer: RecurrentLayer) -> tuple[RecurrentLayer, str]:
    """The layer with two gates swapped in every part (SimpleRNN: its recurrent kernel transposed)."""
    if layer.cell in SWAP:
        a, b = SWAP[layer.cell]
        renamed = {a: b, b: a}
        tensors = [replace(t, gate=renamed.get(t.gate, t.gate)) for t in layer.tensors]
        return replace(layer, tensors=tensors), f"swapping {a}<->{b}"
    tensors = [replace(t, array=t.array.T) if t.part == "recurrent_kernel" else t for t in layer.tensors]
    return replace(layer, tensors=tensors), "transposing recurrent_kernel"


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases())
def test_swapped_gates_do_not_match(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any]
) -> None:
    """Negative control: the same comparison with two gates swapped in the first cell fails."""
    layers = _layers(folder, entry, model, record)
    x, want, atol = _oracle(folder, model, record)
    layers[0], what = _swapped(layers[0])
    err = float(np.max(np.abs(_run(layers, x, record) - want)))
    # Must fail the real test's bound clearly (bfloat16 GRU: 0.18 against atol 0.03).
    assert err > 3 * atol, f"{what} changed the output by only {err:.3g}"


def _uses_hard_sigmoid(record: dict[str, Any]) -> bool:
    return any("hard_sigmoid" in (c.get("activation"), c.get("recurrent_activation")) for c in cells_of(record))


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases(_uses_hard_sigmoid))
def test_hard_sigmoid_of_the_other_generation_does_not_match(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any]
) -> None:
    """Negative control of the activation resolution: Keras 3's hard_sigmoid (x/6) on a tf.keras
    file, or tf.keras's (0.2·x) on a Keras 3 file, gives other outputs."""
    layers = _layers(folder, entry, model, record)
    x, want, atol = _oracle(folder, model, record)
    other = Generation.TF_KERAS if model["framework"] == "keras3" else Generation.KERAS3
    wrong = [replace(layer, maths=replace(layer.maths, writer=Writer(other))) for layer in layers]
    err = float(np.max(np.abs(_run(wrong, x, record) - want)))
    assert err > 3 * atol, f"the other generation's hard_sigmoid changed the output by only {err:.3g}"


@pytest.mark.parametrize(("folder", "entry", "model"), file_cases())
def test_layer_inventory(folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any]) -> None:
    """kernelsplit reports exactly one layer per recorded cell/direction, with the right kind."""
    art = open_cached(str(folder / entry["path"]))
    cells = [cell for record in model["layers"] for cell in cells_of(record)]
    assert len(art.layers) == len(cells), [layer.name for layer in art.layers]
    for cell in cells:
        layer = find_layer(art, cell["kernel_sha256"], cell["keras_name"])
        assert (layer.cell, layer.units) == (cell["cell"], cell["units"]), layer.name
