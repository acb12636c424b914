"""The reference forward pass reproduces Keras on every recurrent layer of the public models in
../shared/realworld, and on every Bidirectional pair there, merged as the file's wrapper merges.

The oracle is real Keras (tests/support/keras_oracle.py): the layer built with its class, units,
convolution and the activations its file's config names, as the generation that wrote the file
defines them (tf-keras for Keras 1/2 and tf.keras files: hard_sigmoid 0.2·x; Keras 3 for Keras 3
files), with the weights kernelsplit reads (test_realworld.py proves them digest-equal to what
Keras's own loader holds). Outputs *and* final states are compared, on seeded random input.
Weights-only files store no maths: the forward pass must refuse them; they then run with an
explicit assumption (sigmoid), which the Keras layer is built with too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from support.keras_oracle import keras_results
from support.paths import REALWORLD, needs_shared
from support.realworld import files, framework, keras_case, random_input

import kernelsplit
import kernelsplit.forward
from kernelsplit.analysis.assume import assume
from kernelsplit.errors import UnknownMathsError
from kernelsplit.model import RecurrentLayer

pytestmark = needs_shared

#: float32 Keras against the float64 reference, relative to the output's scale (relu layers are unbounded).
#: Measured worst: 7.9e-6 (textgenrnn, weights up to 9.3, inputs in [-2, 2]).
RTOL = 5e-5


def _error(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    assert len(got) == len(want), (len(got), len(want))
    worst = 0.0
    for mine, theirs in zip(got, want, strict=True):
        assert mine.shape == theirs.shape, (mine.shape, theirs.shape)
        scale = max(1.0, float(np.max(np.abs(theirs))))
        worst = max(worst, float(np.max(np.abs(mine - theirs))) / scale)
    return worst


def _runnable(layer: RecurrentLayer) -> tuple[RecurrentLayer, bool]:
    """The layer as stored, or (weights-only: after proving the forward pass refuses it) with sigmoid assumed."""
    try:
        kernelsplit.forward.program(layer)
    except UnknownMathsError:
        assumed = assume(layer, "sigmoid")
        kernelsplit.forward.program(assumed)  # everything is known now
        return assumed, True
    return layer, False


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], dict[str, Any]]:
    """(file, layer or wrapper) -> {"error", "assumed", "what"} for every layer and Bidirectional pair."""
    rng = np.random.default_rng(20261202)
    pending: dict[str, list[tuple[tuple[str, str], dict[str, Any], list[np.ndarray], bool]]] = {
        "tf_keras": [],
        "keras3": [],
    }
    for local in files():
        artifact = kernelsplit.open(REALWORLD / "files" / local)
        runnable = {}
        for layer in artifact.layers:
            run, assumed = _runnable(layer)
            runnable[layer.name] = run
            x = random_input(run, rng)
            h0 = [rng.uniform(-1, 1, s.shape).astype(np.float32) for s in run.forward(x[:, :1]).states]
            result = run.forward(x, h0, return_sequences=True)
            assert result.sequence.dtype == np.float64  # type: ignore[union-attr]
            case = keras_case(run, x) | {"initial_state": h0}
            got = [result.output, *result.states]
            pending[framework(run)].append(((local, layer.name), case, got, assumed))  # type: ignore[list-item]
        for layer in artifact.layers:
            pair = artifact.pair(layer)
            if pair is None or layer is not pair[0]:
                continue
            ahead, back = (runnable[one.name] for one in pair)
            mode = ahead.maths.merge_mode
            if not mode.known or ahead.maths.go_backwards.value == back.maths.go_backwards.value:
                continue  # a custom backward_layer: Keras's Bidirectional(layer) would not rebuild it
            x = random_input(ahead, rng)
            for sequences in (True, False):
                merged = kernelsplit.forward.bidirectional(ahead, back, x, return_sequences=sequences)
                outputs = merged.output if isinstance(merged.output, list) else [merged.output]
                case = keras_case(ahead, x) | {
                    "merge_mode": mode.value,
                    "return_sequences": sequences,
                    "weights": keras_case(ahead, x)["weights"] + keras_case(back, x)["weights"],
                }
                key = (local, f"{layer.wrapper} (Bidirectional, return_sequences={sequences})")
                pending[framework(ahead)].append((key, case, [*outputs, *merged.states], False))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for name, items in pending.items():
        answers = keras_results([case for _, case, _, _ in items], name)
        for (key, _, got, assumed), want in zip(items, answers, strict=True):
            out[key] = {"error": _error(got, want), "assumed": assumed}
    return out


@pytest.mark.parametrize("local", files())
def test_every_layer_computes_what_keras_computes(local: str, results: dict[tuple[str, str], dict[str, Any]]) -> None:
    mine = {key[1]: value for key, value in results.items() if key[0] == local}
    assert mine, "the file has recurrent layers"
    for name, value in mine.items():
        assert value["error"] <= RTOL, f"{name}: max |reference - keras| = {value['error']:.3g} (relative)"


def test_summary(results: dict[tuple[str, str], dict[str, Any]]) -> None:
    """The figures of the closing note: layers and pairs proved, how many needed an assumption, the worst error."""
    pairs = [v for key, v in results.items() if "Bidirectional" in key[1]]
    layers = [v for key, v in results.items() if "Bidirectional" not in key[1]]
    assert len(layers) >= 43 and pairs  # every recurrent layer of the corpus (43 when written)
    worst = max(v["error"] for v in results.values())
    assumed = sum(v["assumed"] for v in layers)
    print(f"{len(layers)} layers ({assumed} weights-only, sigmoid assumed), {len(pairs)} merges; worst {worst:.2g}")
