"""The split is lossless: concatenating the gate blocks gives back the stored tensor exactly."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from support.paths import FIXTURES

import kernelsplit
from kernelsplit.analysis.classify import classify
from kernelsplit.analysis.split import split
from kernelsplit.layouts import CELL_LAYOUTS
from kernelsplit.model import ArtifactFormat
from kernelsplit.readers.base import LayerDescription, StoredTensor, WeightGroup

KINDS = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


@st.composite
def cells(draw: st.DrawFn) -> tuple[str, list[np.ndarray]]:
    class_name = draw(st.sampled_from(sorted(KINDS)))
    gates = KINDS[class_name]
    units = draw(st.integers(1, 6))
    input_dim = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16]))
    floats = st.floats(-1e3, 1e3, width=16 if dtype == np.float16 else 32, allow_nan=False)
    kernel = draw(arrays(dtype, (input_dim, gates * units), elements=floats))
    recurrent = draw(arrays(dtype, (units, gates * units), elements=floats))
    tensors = [kernel, recurrent]
    bias_shape = draw(st.sampled_from([None, (gates * units,)] + ([(2, gates * units)] if gates == 3 else [])))
    if bias_shape is not None:
        tensors.append(draw(arrays(dtype, bias_shape, elements=floats)))
    return class_name, tensors


@settings(max_examples=150, deadline=None)
@given(cells())
def test_concatenated_gates_equal_stored_tensors(cell: tuple[str, list[np.ndarray]]) -> None:
    class_name, arrays_ = cell
    group = WeightGroup(
        name="x",
        tensors=[StoredTensor(a, f"t{k}", str(a.dtype)) for k, a in enumerate(arrays_)],
        description=LayerDescription(class_name, class_name, {}),
    )
    (layer,) = [split(spec) for spec in classify(group, ArtifactFormat.H5_FULL)]
    assert layer.gates == CELL_LAYOUTS[layer.cell].gates
    assert np.array_equal(layer.fused("kernel"), arrays_[0])
    assert np.array_equal(layer.fused("recurrent_kernel"), arrays_[1])
    if len(arrays_) == 3:
        bias = arrays_[2]
        if bias.ndim == 2:
            assert np.array_equal(layer.fused("bias"), bias[0])
            assert np.array_equal(layer.fused("recurrent_bias"), bias[1])
        else:
            assert np.array_equal(layer.fused("bias"), bias)
    for tensor in layer.tensors:  # blocks are views of the stored bytes, never copies
        assert tensor.array.shape[-1] == layer.units
        assert any(np.shares_memory(tensor.array, stored) for stored in arrays_)


def test_fixture_blocks_are_views_of_the_file_bytes() -> None:
    """On real files: each block's source slice, read back with h5py, is the block itself."""
    import h5py

    path = FIXTURES / "tf_keras" / "zoo.h5"
    artifact = kernelsplit.open(path)
    with h5py.File(path) as h5:
        for layer in artifact.layers:
            for tensor in layer.tensors:
                dataset_path, _, index = tensor.source.rpartition("[")
                stored = h5[dataset_path][()]
                selector = tuple(
                    slice(*map(int, part.split(":")))
                    if ":" in part and part.strip() != ":"
                    else (slice(None) if part.strip() == ":" else int(part))
                    for part in index.rstrip("]").split(", ")
                )
                assert np.array_equal(stored[selector], tensor.array), tensor.source


def _every_fixture_file() -> list[str]:
    """Every file of every fixture manifest: all formats, SavedModel and checkpoints included."""
    import json

    paths = []
    for manifest in sorted(FIXTURES.glob("*/manifest.json")):
        for entry in json.loads(manifest.read_text())["files"]:
            paths.append(str(manifest.parent / entry["path"]))
    return paths


def test_no_command_imports_tensorflow_or_keras(tmp_path) -> None:
    files = _every_fixture_file()
    assert len(files) > 30
    code = textwrap.dedent(f"""
        import sys
        import kernelsplit
        from click.testing import CliRunner
        from kernelsplit.cli import cli
        for path in {files!r}:
            assert kernelsplit.try_open(path).error is None, path
        runner = CliRunner()
        runner.invoke(cli, ["inspect", "--format", "json", *{files!r}])
        runner.invoke(cli, ["check", "--format", "json", {str(FIXTURES)!r}])
        runner.invoke(cli, ["diff", {str(FIXTURES / "tf_keras" / "zoo.h5")!r},
                            {str(FIXTURES / "tf_keras" / "zoo.keras")!r}])
        runner.invoke(cli, ["export", {str(FIXTURES / "tf_keras" / "zoo.h5")!r}, "--layout", "pytorch",
                            "--skip-unsupported", "-o", {str(tmp_path / "out")!r}])
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))
        print(loaded)
    """)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]", completed.stdout
    assert (tmp_path / "out" / "manifest.json").is_file()  # the commands really ran
