"""The one classification step, on weight groups built in memory (docs/formats.md has each rule)."""

from __future__ import annotations

import numpy as np
import pytest

from kernelsplit.analysis.classify import CellSpec, classify
from kernelsplit.analysis.split import split
from kernelsplit.errors import CorruptFileError, UnsupportedError
from kernelsplit.model import ArtifactFormat, BiasLayout, Fact, Origin, Storage
from kernelsplit.readers.base import LayerDescription, StoredTensor, WeightGroup

RNG = np.random.default_rng(7)


def tensor(*shape: int, name: str = "") -> StoredTensor:
    return StoredTensor(RNG.normal(size=shape).astype(np.float32), name or "t", "float32", name=name)


def one(group: WeightGroup, fmt: ArtifactFormat = ArtifactFormat.H5_FULL) -> CellSpec:
    (spec,) = classify(group, fmt)
    return spec


def described(class_name: str, **hyper: object) -> LayerDescription:
    return LayerDescription(class_name, class_name, dict(hyper))


def test_a_double_width_bias_without_config_is_cudnn_with_its_fixed_maths() -> None:
    spec = one(WeightGroup("c", [tensor(3, 16), tensor(4, 16), tensor(32)]))
    assert (spec.kind, spec.units, spec.storage, spec.bias) == ("lstm", 4, Storage.CUDNN, BiasLayout.HALVES)
    assert spec.class_name == "inferred:CuDNNLSTM" and spec.inferred
    assert spec.maths.recurrent_activation == Fact("sigmoid", Origin.CLASS)
    assert [t.part for t in split(spec).tensors].count("recurrent_bias") == 4


def test_keras1_per_gate_arrays_are_reordered_to_i_f_c_o() -> None:
    units, stored = 2, []
    for gate in "icfo":  # Keras 1 storage order
        stored += [tensor(3, units, name=f"lstm_1_W_{gate}"), tensor(units, units, name=f"lstm_1_U_{gate}")]
        stored.append(tensor(units, name=f"lstm_1_b_{gate}"))
    spec = one(WeightGroup("lstm_1", stored, described("LSTM", units=units)))
    assert (spec.storage, spec.bias) == (Storage.KERAS1, BiasLayout.PER_GATE)
    layer = split(spec)
    for gate in "ifco":
        block = layer.tensor("kernel", gate)
        assert block.stored_path == f"lstm_1_W_{gate}" and block.selection == ""  # the whole stored array
        assert np.array_equal(block.array, next(t.array for t in stored if t.name == f"lstm_1_W_{gate}"))
    assert [t.gate for t in layer.tensors if t.part == "kernel"] == ["i", "f", "c", "o"]


def test_gru_reset_after_is_read_off_the_bias_and_a_contradicting_config_is_a_mismatch() -> None:
    group = WeightGroup("g", [tensor(3, 6), tensor(2, 6), tensor(2, 6)], described("GRU", units=2, reset_after=False))
    spec = one(group)
    assert spec.maths.reset_after == Fact(True, Origin.STORED)
    assert [(m.key, m.config, m.stored) for m in spec.mismatches] == [("reset_after", False, True)]


def test_config_units_that_disagree_with_the_shapes_are_a_mismatch_and_shapes_win() -> None:
    spec = one(WeightGroup("l", [tensor(3, 16), tensor(4, 16), tensor(16)], described("LSTM", units=5)))
    assert spec.units == 4
    assert [(m.key, m.config, m.stored) for m in spec.mismatches] == [("units", 5, 4)]


def test_maths_come_from_the_config_with_their_origin() -> None:
    hyper = {"activation": "relu", "recurrent_activation": "hard_sigmoid", "go_backwards": True}
    spec = one(WeightGroup("l", [tensor(3, 8), tensor(2, 8)], described("LSTM", **hyper)))
    assert spec.maths.activation == Fact("relu", Origin.CONFIG)
    assert spec.maths.recurrent_activation == Fact("hard_sigmoid", Origin.CONFIG)
    assert spec.maths.go_backwards == Fact(True, Origin.CONFIG)
    assert spec.maths.use_bias == Fact(False, Origin.STORED) and spec.bias == BiasLayout.NONE


def test_without_config_two_square_dense_kernels_are_not_taken_for_a_simple_rnn() -> None:
    """(4, 4) then (4, 4) has a SimpleRNN's shapes; the names say neither is recurrent."""
    tensors = [tensor(4, 4, name="dense_1/kernel:0"), tensor(4, 4, name="dense_2/kernel:0")]
    tensors += [
        tensor(3, 6, name="gru/kernel:0"),
        tensor(2, 6, name="gru/recurrent_kernel:0"),
        tensor(6, name="gru/bias:0"),
    ]
    specs = classify(WeightGroup("m", tensors), ArtifactFormat.H5_WEIGHTS)
    assert [(s.kind, s.units, s.inferred) for s in specs] == [("gru", 2, True)]
    nameless = [tensor(4, 4), tensor(4, 4)]  # without names, the same shapes are a SimpleRNN
    assert [s.kind for s in classify(WeightGroup("m", nameless), ArtifactFormat.H5_WEIGHTS)] == ["simple_rnn"]


@pytest.mark.parametrize(
    "tensors",
    [
        [tensor(), tensor(4, 16), tensor(16)],  # scalar kernel
        [tensor(3, 16), tensor(4, 15)],  # recurrent kernel not (u, G·u)
        [tensor(3, 16), tensor(4, 16), tensor(7)],  # bias of no known width
        [tensor(3, 12), tensor(4, 16)],  # kernel and recurrent kernel of different widths
    ],
)
def test_damaged_shapes_are_corrupt_not_a_crash(tensors: list[StoredTensor]) -> None:
    with pytest.raises(CorruptFileError):
        classify(WeightGroup("x", tensors, described("LSTM")), ArtifactFormat.H5_FULL)


def test_per_gate_arrays_of_different_shapes_are_corrupt() -> None:
    stored = []
    for k, gate in enumerate("icfo"):
        stored += [tensor(3, 2 + (k == 3), name=f"l_W_{gate}"), tensor(2, 2, name=f"l_U_{gate}")]
        stored.append(tensor(2, name=f"l_b_{gate}"))
    with pytest.raises(CorruptFileError):
        classify(WeightGroup("l", stored, described("LSTM")), ArtifactFormat.H5_FULL)


def test_keras0_nine_nameless_arrays_are_refused_as_gru_or_jzs3() -> None:
    stored = [t for _ in "zrh" for t in (tensor(3, 2), tensor(2, 2), tensor(2))]
    with pytest.raises(UnsupportedError, match="JZS3"):
        classify(WeightGroup("layer_0", stored), ArtifactFormat.H5_KERAS0)
    (spec,) = classify(WeightGroup("layer_0", stored), ArtifactFormat.H5_WEIGHTS)  # elsewhere: a Keras 1 GRU
    assert (spec.kind, spec.storage) == ("gru", Storage.KERAS1)
