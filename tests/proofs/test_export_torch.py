"""The pytorch export, loaded into real torch.nn.LSTM / GRU / RNN modules, reproduces Keras's outputs.

For every fixture record whose layer PyTorch can hold: export the file with ``--layout pytorch``,
read the state dict back from the files, ``load_state_dict(strict=True)`` into the module the
manifest names, run the oracle input and compare with Keras's stored output.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from support.exporting import FAMILIES, cached_exporter, group_arrays, group_of
from support.fixtures import ATOL, find_layer, open_cached, oracle, record_cases
from support.paths import FIXTURES

from kernelsplit.export import ExportRefusedError, export_artifact

torch = pytest.importorskip("torch")

MODULES = {"torch.nn.LSTM": torch.nn.LSTM, "torch.nn.GRU": torch.nn.GRU, "torch.nn.RNN": torch.nn.RNN}


def torch_supported(record: dict[str, Any]) -> bool:
    cells = record.get("cells") or [record]
    return all(
        c["cell"] in ("lstm", "gru", "simple_rnn")
        and c.get("reset_after") is not False
        and c.get("activation", "tanh") == "tanh"
        and c.get("recurrent_activation") in (None, "sigmoid")
        for c in cells
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[pathlib.Path, dict[str, Any]]]:
    return cached_exporter(tmp_path_factory, "pytorch")


def build_module(folder: pathlib.Path, manifest: dict[str, Any], group: dict[str, Any], fmt: str) -> Any:
    target = group["target"]
    module = MODULES[target["module"]](**target["kwargs"]).double()
    state = {
        k: torch.from_numpy(np.asarray(v, np.float64))
        for k, v in group_arrays(folder, manifest, group["name"], fmt).items()
    }
    module.load_state_dict(state, strict=True)
    return module.eval()


def run_record(
    folder: pathlib.Path,
    entry: dict[str, Any],
    model: dict[str, Any],
    record: dict[str, Any],
    out: pathlib.Path,
    manifest: dict[str, Any],
    fmt: str,
) -> tuple[np.ndarray, np.ndarray]:
    art = open_cached(str(folder / entry["path"]))
    keras_io = oracle(str(folder / model["oracle"]))
    x = torch.from_numpy(keras_io[f"{record['key']}/input"].astype(np.float64))
    want = keras_io[f"{record['key']}/output"]
    cells = record.get("cells") or [record]
    with torch.no_grad():
        if record.get("direction") in ("forward", "backward"):
            layer = find_layer(art, record["kernel_sha256"], record["key"])
            group = group_of(manifest, layer.name)
            assert group["target"]["kwargs"]["bidirectional"], "a Bidirectional pair is one module"
            seq = build_module(out, manifest, group, fmt)(x)[0]
            units = record["units"]
            if record["direction"] == "forward":
                seq = seq[..., :units]
            else:  # PyTorch returns the reverse direction in input time order; Keras in processing order
                seq = torch.flip(seq[..., units:], [1])
        else:
            seq = torch.flip(x, [1]) if record["go_backwards"] else x
            for i, cell in enumerate(cells):
                layer = find_layer(art, cell["kernel_sha256"], f"{record['key']}[{i}]")
                group = group_of(manifest, layer.name)
                assert not group["target"]["kwargs"]["bidirectional"]
                seq = build_module(out, manifest, group, fmt)(seq)[0]
        got = seq if record["return_sequences"] else seq[:, -1]
    return got.numpy(), want


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases(torch_supported, FAMILIES))
def test_torch_module_reproduces_keras(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any], exported: Any
) -> None:
    out, manifest = exported(folder / entry["path"], "safetensors")
    got, want = run_record(folder, entry, model, record, out, manifest, "safetensors")
    assert got.shape == want.shape
    atol = max(ATOL[c.get("dtype", "float32")] for c in (record.get("cells") or [record]))
    err = float(np.max(np.abs(got - want)))
    assert err <= atol, f"max |torch - keras| = {err:.3g} > {atol}"


@pytest.mark.parametrize("fmt", ["npy", "npz", "csv", "json"])
def test_torch_from_every_format(fmt: str, exported: Any) -> None:
    """The same state dict works whatever file format carried it (tf-keras zoo: Bidirectional, GRU)."""
    cases = record_cases(torch_supported, FAMILIES)
    for case in cases:
        folder, entry, model, record = case.values
        if f"{folder.name}/{entry['path']}" != "tf_keras/zoo.h5":
            continue
        out, manifest = exported(folder / entry["path"], fmt)
        got, want = run_record(folder, entry, model, record, out, manifest, fmt)
        assert float(np.max(np.abs(got - want))) <= 1e-5, record["key"]


def test_swapped_gru_gates_would_not_match(exported: Any) -> None:
    """Negative control: feeding Keras's z r h order unchanged into torch's r z n breaks the output."""
    folder = FIXTURES / "keras3"
    out, manifest = exported(folder / "zoo.keras", "npz")
    group = group_of(manifest, "gru_ra_true")
    module = build_module(out, manifest, group, "npz")
    with torch.no_grad():
        for param in module.parameters():
            r, z, n = param.chunk(3, 0)
            param.copy_(torch.cat([z, r, n], 0))
    keras_io = oracle(str(folder / "zoo.npz"))
    x = torch.from_numpy(keras_io["gru_ra_true/input"].astype(np.float64))
    with torch.no_grad():
        got = module(x)[0][:, -1].numpy()
    assert float(np.max(np.abs(got - keras_io["gru_ra_true/output"]))) > 1e-2


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("gru_ra_false", "reset_after=False"),
        ("lstm_acts", "activation='relu'"),
    ],
)
def test_pytorch_refuses_what_it_cannot_compute(name: str, reason: str) -> None:
    art = open_cached(str(FIXTURES / "keras3" / "zoo.keras"))
    from kernelsplit.analysis.select import Selection

    with pytest.raises(ExportRefusedError, match=reason) as info:
        export_artifact(
            art, out=pathlib.Path("/nonexistent/never-written"), layout="pytorch", selection=Selection(layers=(name,))
        )
    assert info.value.code == "export-refused"


@pytest.mark.parametrize("layout", ["pytorch", "onnx"])
def test_convlstm_is_refused(layout: str, tmp_path: pathlib.Path) -> None:
    art = open_cached(str(FIXTURES / "keras3" / "convlstm2d.keras"))
    with pytest.raises(ExportRefusedError, match="no ConvLSTM"):
        export_artifact(art, out=tmp_path / "out", layout=layout)
    assert not (tmp_path / "out").exists() and not list(tmp_path.iterdir())
