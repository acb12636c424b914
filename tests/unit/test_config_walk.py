"""The walk of a stored Keras config (readers/keras/config_walk.py), on configs built in memory.

The paths and orders asserted here are the ones real Keras writes (docs/formats.md); the
fixtures prove them end to end, these tests pin each rule on its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from kernelsplit.readers.keras.config_walk import (
    LayerConfig,
    executable_layers,
    hyperparameters,
    legacy_weight_order,
    walk_container,
    walk_layer,
)


def layer(class_name: str, name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": {"name": name, **config}}


def cells(model: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(display name, v3 store path, class) of every cell the walk finds."""
    return [
        (o.cell.name, o.cell.v3_path, o.cell.description.class_name)
        for o in walk_container(LayerConfig.from_entry(model), "", "")
        if o.cell is not None
    ]


def test_functional_counts_classes_per_container_and_keeps_input_layers() -> None:
    model = layer(
        "Functional",
        "m",
        layers=[
            layer("InputLayer", "x"),
            layer("LSTM", "first", units=4),
            layer("Dense", "d"),
            layer("LSTM", "second", units=2),
            layer("GRU", "g", units=3),
        ],
    )
    assert cells(model) == [
        ("first", "layers/lstm/cell", "LSTM"),
        ("second", "layers/lstm_1/cell", "LSTM"),
        ("g", "layers/gru/cell", "GRU"),
    ]


def test_sequential_drops_its_input_layer_and_nests_models() -> None:
    inner = layer("Sequential", "sub", layers=[layer("InputLayer", "i"), layer("SimpleRNN", "rnn", units=2)])
    model = layer("Sequential", "m", layers=[layer("InputLayer", "x"), layer("SimpleRNN", "top", units=3), inner])
    assert cells(model) == [
        ("top", "layers/simple_rnn/cell", "SimpleRNN"),
        ("sub/rnn", "layers/sequential/layers/simple_rnn/cell", "SimpleRNN"),
    ]


def test_keras_1_sequential_is_a_bare_list() -> None:
    model = {"class_name": "Sequential", "config": [layer("LSTM", "l", output_dim=4)]}
    (owner,) = [o for o in walk_container(LayerConfig.from_entry(model), "", "") if o.cell]
    assert owner.cell is not None and owner.cell.description.hyper["units"] == 4


def test_bidirectional_stacked_and_time_distributed_paths() -> None:
    bidi = layer("Bidirectional", "bidi", layer=layer("LSTM", "fw", units=2), merge_mode="concat")
    stacked = layer(
        "RNN",
        "stack",
        cell=layer("StackedRNNCells", "s", cells=[layer("LSTMCell", "a", units=2), layer("GRUCell", "b", units=2)]),
    )
    td = layer("TimeDistributed", "td", layer=layer("Dense", "dense"))
    model = layer("Functional", "m", layers=[bidi, stacked, td])
    assert cells(model) == [
        ("bidi/forward", "layers/bidirectional/forward_layer/cell", "LSTM"),
        ("bidi/backward", "layers/bidirectional/backward_layer/cell", "LSTM"),
        ("stack/a", "layers/rnn/cell/cells/lstm_cell", "RNN(LSTMCell)"),
        ("stack/b", "layers/rnn/cell/cells/gru_cell", "RNN(GRUCell)"),
    ]


def test_bidirectional_without_backward_config_flips_go_backwards() -> None:
    bidi = LayerConfig.from_entry(layer("Bidirectional", "bidi", layer=layer("GRU", "g", units=2)))
    found = [o.cell for o in walk_layer(bidi, "bidi", "") if o.cell]
    assert [(c.direction, c.description.hyper.get("go_backwards")) for c in found if c] == [
        ("forward", None),
        ("backward", True),
    ]


def test_hyperparameters_map_keras_1_keys_and_registered_functions() -> None:
    hyper = hyperparameters(
        {
            "output_dim": 8,
            "inner_activation": "hard_sigmoid",
            "activation": {"class_name": "function", "config": "tanh"},
        },
        "GRU",
    )
    assert hyper == {"units": 8, "activation": "tanh", "recurrent_activation": "hard_sigmoid", "reset_after": False}


def test_legacy_weight_order_puts_every_trainable_weight_first() -> None:
    """A nested Sequential [LSTM(trainable=False), GRU]: the GRU's weights come first in the group."""
    nested = layer(
        "Sequential",
        "nested",
        layers=[layer("LSTM", "frozen", units=3, trainable=False), layer("GRU", "live", units=2)],
    )
    owners = list(walk_layer(LayerConfig.from_entry(nested), "nested", ""))
    slots = legacy_weight_order(owners)
    assert slots is not None
    assert {slot.owner.name: slot.indices for slot in slots} == {"frozen": [3, 4, 5], "live": [0, 1, 2]}


def test_unknown_weight_counts_give_up_instead_of_guessing() -> None:
    model = layer("Sequential", "s", layers=[layer("MyCustomLayer", "c"), layer("LSTM", "l", units=2)])
    assert legacy_weight_order(list(walk_layer(LayerConfig.from_entry(model), "s", ""))) is None


def test_executable_layers_lists_lambdas_and_custom_classes() -> None:
    config = layer(
        "Functional",
        "m",
        layers=[
            layer("Lambda", "lam", function=["4wEAAA", None, None]),
            {"class_name": "Mine", "module": "my_package.layers", "config": {"name": "custom"}},
            layer("LSTM", "l"),
        ],
    )
    assert executable_layers(config) == ["lam (Lambda)", "custom (custom my_package.layers.Mine)"]


def test_code_nested_below_a_layer_is_listed_with_its_key() -> None:
    """Keras deserializes every nested object: a lambda activation or an initializer naming
    builtins.exec runs code on load just as a Lambda layer does."""
    lstm = layer(
        "LSTM",
        "l",
        activation={"class_name": "__lambda__", "config": {"code": "4wEAAA", "defaults": None}},
        kernel_initializer={"module": "builtins", "class_name": "exec", "config": {}, "registered_name": "exec"},
        recurrent_constraint={"class_name": "os>system", "config": {}},
        bias_initializer={"module": "keras.initializers", "class_name": "Zeros", "config": {}},
    )
    assert executable_layers(layer("Sequential", "m", layers=[lstm])) == [
        "l: activation (Python lambda)",
        "l: kernel_initializer (custom builtins.exec)",
        "l: recurrent_constraint (custom os>system)",
    ]


def test_configs_beyond_any_model_are_refused_before_walking() -> None:
    from kernelsplit.errors import AmbiguousFileError, TooLargeError
    from kernelsplit.readers.keras.config_walk import MAX_LAYERS, walk_container

    many = layer("Sequential", "m", layers=[layer("Dense", f"d{k}") for k in range(MAX_LAYERS + 1)])
    with pytest.raises(TooLargeError, match="layers"):
        executable_layers(many)
    deep: dict = layer("Dense", "leaf")
    for k in range(80):
        deep = layer("Sequential", f"s{k}", layers=[deep])
    with pytest.raises(TooLargeError, match="nests"):
        executable_layers(deep)
    twice = layer("Sequential", "m", layers=[layer("LSTM", "same"), layer("GRU", "same")])
    with pytest.raises(AmbiguousFileError, match="same"):
        list(walk_container(LayerConfig.from_entry(twice), "", ""))
