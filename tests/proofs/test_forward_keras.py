"""What the fixtures leave out, proved against real Keras on layers built in memory: every
activation Keras offers in each generation (hard_sigmoid 0.2·x in tf-keras, x/6 in Keras 3) as a
SimpleRNN's activation, the gate functions also as an LSTM's recurrent activation; Bidirectional in
every merge mode, returning sequences or not; initial states and final states;
``return_sequences=False``; both GRU bias styles and ``use_bias=False``.

Each layer goes through kernelsplit's classification and split like a file's (a reader's weight
group with a config), then ``kernelsplit.forward`` runs it; the oracle is the same layer built in
Keras with the same weights (tests/support/keras_oracle.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from support.keras_oracle import keras_results

import kernelsplit.forward
from kernelsplit.analysis.classify import classify
from kernelsplit.analysis.split import split
from kernelsplit.errors import UnknownMathsError
from kernelsplit.maths import Generation, Writer, activation, activation_names
from kernelsplit.model import ArtifactFormat, Direction, RecurrentLayer
from kernelsplit.readers.base import LayerDescription, StoredTensor, WeightGroup

WRITERS = {"tf_keras": Writer(Generation.TF_KERAS, "2.21.0"), "keras3": Writer(Generation.KERAS3, "3.15.1")}
GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
ATOL = 2e-5


def make_layer(
    class_name: str,
    framework: str,
    hyper: dict[str, Any],
    *,
    units: int = 3,
    input_dim: int = 2,
    seed: int = 0,
    bias: str = "single",
    name: str = "rnn",
    direction: str | None = None,
    scale: float = 0.6,
) -> RecurrentLayer:
    rng = np.random.default_rng(seed)
    width = GATES[class_name] * units
    arrays = [rng.normal(size=(input_dim, width)) * scale, rng.normal(size=(units, width)) * scale]
    if bias == "single":
        arrays.append(rng.normal(size=(width,)) * scale)
    elif bias == "pair":
        arrays.append(rng.normal(size=(2, width)) * scale)
    tensors = [StoredTensor(a.astype(np.float32), f"{name}/{k}", "float32") for k, a in enumerate(arrays)]
    full = {"use_bias": bias != "none", "go_backwards": False, **hyper}
    group = WeightGroup(name, tensors, LayerDescription(class_name, class_name, full), direction=direction)
    (spec,) = classify(group, ArtifactFormat.KERAS_ZIP, WRITERS[framework])
    return split(spec)


def case(layer: RecurrentLayer, x: np.ndarray, **extra: Any) -> dict[str, Any]:
    weights = [layer.fused("kernel"), layer.fused("recurrent_kernel")]
    if "recurrent_bias" in layer.parts:
        weights.append(np.stack([layer.fused("bias"), layer.fused("recurrent_bias")]))
    elif "bias" in layer.parts:
        weights.append(layer.fused("bias"))
    maths = layer.maths
    return {
        "class_name": {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}[layer.cell],
        "units": layer.units,
        "activation": maths.activation.value,
        "recurrent_activation": maths.recurrent_activation.value,
        "use_bias": bool(maths.use_bias.value),
        "reset_after": bool(maths.reset_after.value),
        "go_backwards": bool(maths.go_backwards.value),
        "weights": weights,
        "x": x,
        **extra,
    }


def max_error(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    """Max |got - want|, relative where an output exceeds 1 (unbounded activations)."""
    assert [g.shape for g in got] == [w.shape for w in want]
    assert all(np.all(np.isfinite(w)) for w in want), "the oracle's outputs must be finite"
    return max(float(np.max(np.abs(g - w) / np.maximum(1.0, np.abs(w)))) for g, w in zip(got, want, strict=True))


def inputs(seed: int, steps: int = 6, features: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.5, 1.5, (2, steps, features)).astype(np.float32)


# ---------------------------------------------------------- every case, run in one Keras per framework

Case = tuple[str, dict[str, Any], list[np.ndarray]]


#: Names also proved in the recurrent slot (the functions are the same; this proves the slot's binding).
RECURRENT_SLOT = {"hard_sigmoid", "sigmoid", "tanh", "relu", "linear", "softsign", "sparse_sigmoid"}


def _activation_cases(framework: str) -> list[Case]:
    out = []
    for seed, name in enumerate(activation_names(WRITERS[framework].possible[0])):
        x = inputs(seed, steps=4)
        slots = [("activation", "SimpleRNN", {"activation": name})]
        if name in RECURRENT_SLOT:
            slots.append(("recurrent_activation", "LSTM", {"activation": "tanh", "recurrent_activation": name}))
        for slot, class_name, hyper in slots:
            layer = make_layer(class_name, framework, hyper, seed=seed, scale=0.4)
            result = layer.forward(x, return_sequences=True)
            spec = case(layer, x, errors_allowed=True)
            out.append((f"activation {name} as {slot}", spec, [result.output, *result.states]))  # type: ignore[list-item]
    return out


def _variants() -> list[tuple[str, RecurrentLayer]]:
    hyper = {"activation": "tanh", "recurrent_activation": "sigmoid"}
    hard = {"activation": "tanh", "recurrent_activation": "hard_sigmoid", "go_backwards": True}
    return [
        ("lstm", make_layer("LSTM", "keras3", hyper, seed=1)),
        ("lstm no bias", make_layer("LSTM", "keras3", hyper, seed=2, bias="none")),
        ("gru reset_after", make_layer("GRU", "keras3", {**hyper, "reset_after": True}, seed=3, bias="pair")),
        ("gru reset_before", make_layer("GRU", "tf_keras", {**hyper, "reset_after": False}, seed=4)),
        ("gru no bias", make_layer("GRU", "keras3", {**hyper, "reset_after": True}, seed=5, bias="none")),
        (
            "simple_rnn backwards",
            make_layer("SimpleRNN", "tf_keras", {"activation": "relu", "go_backwards": True}, seed=6),
        ),
        ("lstm backwards hard_sigmoid", make_layer("LSTM", "tf_keras", hard, seed=7)),
    ]


def _layer_cases(framework: str) -> list[Case]:
    """Outputs and final states, with and without initial states, returning sequences or not."""
    out = []
    rng = np.random.default_rng(7)
    for label, layer in _variants():
        if layer.maths.writer != WRITERS[framework]:
            continue
        x = inputs(len(label))
        for sequences in (True, False):
            for with_state in (False, True):
                n_states = 2 if layer.cell == "lstm" else 1
                initial = [rng.uniform(-1, 1, (2, layer.units)).astype(np.float32) for _ in range(n_states)]
                result = layer.forward(x, initial if with_state else None, return_sequences=sequences)
                assert result.output.shape == ((2, 6, layer.units) if sequences else (2, layer.units))  # type: ignore[union-attr]
                spec = case(layer, x, return_sequences=sequences, initial_state=initial if with_state else None)
                label_full = f"layer {label} return_sequences={sequences} initial_state={with_state}"
                out.append((label_full, spec, [result.output, *result.states]))  # type: ignore[list-item]
    return out


MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _merge_cases() -> list[Case]:
    out = []
    rng = np.random.default_rng(11)
    for merge_mode in MERGE_MODES:
        for class_name, hyper, bias in (
            ("LSTM", {"activation": "tanh", "recurrent_activation": "sigmoid"}, "single"),
            ("GRU", {"activation": "tanh", "recurrent_activation": "sigmoid", "reset_after": True}, "pair"),
        ):
            common = {**hyper, "merge_mode": merge_mode}
            ahead = make_layer(class_name, "keras3", common, seed=21, bias=bias, name="bi/forward", direction="forward")
            backwards = {**common, "go_backwards": True}
            back = make_layer(
                class_name, "keras3", backwards, seed=22, bias=bias, name="bi/backward", direction="backward"
            )
            assert ahead.direction == Direction.FORWARD and ahead.wrapper == back.wrapper == "bi"
            x = inputs(3)
            for sequences in (True, False):
                n = 2 if class_name == "LSTM" else 1
                initial = [rng.uniform(-1, 1, (2, 3)).astype(np.float32) for _ in range(2 * n)]
                result = kernelsplit.forward.bidirectional(ahead, back, x, initial, return_sequences=sequences)
                outputs = result.output if isinstance(result.output, list) else [result.output]
                spec = case(ahead, x, merge_mode=merge_mode, return_sequences=sequences, initial_state=initial)
                spec["weights"] = spec["weights"] + case(back, x)["weights"]
                label = f"merge {merge_mode} {class_name} return_sequences={sequences}"
                out.append((label, spec, [*outputs, *result.states]))
    return out


@pytest.fixture(scope="module")
def answers() -> dict[str, tuple[dict[str, Any], list[np.ndarray], list[np.ndarray]]]:
    """label -> (case, reference, Keras) for every case of this module: one Keras process per framework."""
    out = {}
    for framework in ("tf_keras", "keras3"):
        cases = _activation_cases(framework) + _layer_cases(framework)
        if framework == "keras3":
            cases += _merge_cases()
        labels = [f"{framework} {label}" for label, _, _ in cases]
        assert len(set(labels)) == len(labels)
        results = keras_results([spec for _, spec, _ in cases], framework)
        for label, (_, spec, got), want in zip(labels, cases, results, strict=True):
            out[label] = (spec, got, want)
    return out


@pytest.mark.parametrize("framework", ["tf_keras", "keras3"])
def test_every_activation_keras_offers_matches(framework: str, answers: Any) -> None:
    proved, not_offered = set(), set()
    prefix = f"{framework} activation "
    for label, (spec, got, want) in answers.items():
        if not label.startswith(prefix):
            continue
        name = label[len(prefix) :].split(" as ")[0]
        if not want:
            assert "activation" in str(spec["keras_error"]).lower() or "interpret" in str(spec["keras_error"]), spec
            not_offered.add(name)
            continue
        err = max_error(got, want)
        assert err <= ATOL, f"{label}: max |reference - keras| = {err:.3g}"
        proved.add(name)
    core = {"tanh", "sigmoid", "hard_sigmoid", "relu", "linear", "elu", "selu", "softplus", "softsign", "exponential"}
    assert core <= proved, core - proved
    if framework == "keras3":  # Keras 3 offers every name kernelsplit computes
        assert not not_offered, not_offered
    print(f"{framework}: {len(proved)} activations proved; not offered by this Keras: {sorted(not_offered)}")


def test_layers_with_initial_states_return_what_keras_returns(answers: Any) -> None:
    checked = 0
    for label, (_, got, want) in answers.items():
        if " layer " in label:
            err = max_error(got, want)
            assert err <= ATOL, f"{label}: max |reference - keras| = {err:.3g}"
            checked += 1
    assert checked == 4 * len(_variants())


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
def test_bidirectional_merges_as_keras_does(merge_mode: str | None, answers: Any) -> None:
    mine = {label: v for label, v in answers.items() if label.startswith(f"keras3 merge {merge_mode} ")}
    assert len(mine) == 4
    for label, (_, got, want) in mine.items():
        err = max_error(got, want)
        assert err <= ATOL, f"{label}: max |reference - keras| = {err:.3g}"


def test_hard_sigmoid_slope_follows_the_writer() -> None:
    x = np.array([-4.0, -1.0, 0.0, 1.0, 4.0])
    older = activation("hard_sigmoid", Generation.TF_KERAS)
    newer = activation("hard_sigmoid", Generation.KERAS3)
    assert older is not None and newer is not None
    np.testing.assert_allclose(older.function(x), [0.0, 0.3, 0.5, 0.7, 1.0])
    np.testing.assert_allclose(newer.function(x), [0.0, 1 / 3, 0.5, 2 / 3, 1.0])


@pytest.mark.parametrize("name", ["glu", "sparsemax", "threshold", "my_custom_fn"])
def test_activations_kernelsplit_cannot_compute_are_refused(name: str) -> None:
    layer = make_layer("SimpleRNN", "keras3", {"activation": name})
    with pytest.raises(UnknownMathsError, match=name):
        layer.forward(inputs(0))


def test_an_activation_whose_meaning_depends_on_an_unnamed_writer_is_refused() -> None:
    layer = make_layer("LSTM", "keras3", {"activation": "tanh", "recurrent_activation": "hard_sigmoid"})
    unnamed = replace(
        layer, maths=replace(layer.maths, writer=Writer(None, None, (Generation.TF_KERAS, Generation.KERAS3)))
    )
    with pytest.raises(UnknownMathsError, match="hard_sigmoid"):
        unnamed.forward(inputs(0))
    assert layer.forward(inputs(0)).states  # the same layer with its writer known runs


def test_a_merge_mode_the_file_does_not_record_is_refused() -> None:
    hyper = {"activation": "tanh", "recurrent_activation": "sigmoid"}
    ahead = make_layer("LSTM", "keras3", hyper, name="bi/forward", direction="forward")
    back = make_layer("LSTM", "keras3", {**hyper, "go_backwards": True}, name="bi/backward", direction="backward")
    with pytest.raises(UnknownMathsError, match="merge_mode"):
        kernelsplit.forward.bidirectional(ahead, back, inputs(0))
    assert kernelsplit.forward.bidirectional(ahead, back, inputs(0), merge_mode="sum").states


def test_float32_compute_stays_close_to_float64() -> None:
    layer = make_layer("LSTM", "keras3", {"activation": "tanh", "recurrent_activation": "sigmoid"})
    x = inputs(5)
    exact = layer.forward(x, return_sequences=True)
    single = layer.forward(x, return_sequences=True, dtype="stored")
    assert single.output.dtype == np.float32 and exact.output.dtype == np.float64  # type: ignore[union-attr]
    assert float(np.max(np.abs(single.output - exact.output))) < 1e-5  # type: ignore[operator]
