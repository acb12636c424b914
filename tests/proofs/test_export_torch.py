"""The pytorch export, loaded into real torch.nn.LSTM / GRU / RNN modules, reproduces Keras — or refuses.

For every fixture record: if PyTorch can compute the layer as Keras ran it (the record's truth),
the export loaded with ``load_state_dict(strict=True)`` into the module the manifest names must
reproduce Keras's stored output; if not, the layer must be refused with a reason. Weights-only files
store no maths: they are refused unless the user assumes it, and then every assumption is in the
manifest and the output matches Keras exactly when (and only when) the assumption was right.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from support.exporting import (
    FAMILIES,
    TRUTH_KEYS,
    Exported,
    cached_exporter,
    computable,
    group_arrays,
    group_of,
    manifest_layer,
    truth,
)
from support.fixtures import ATOL, cells_of, find_layer, open_cached, oracle, record_cases
from support.paths import FIXTURES
from support.runtimes import build_torch_module

from kernelsplit.analysis.select import Selection
from kernelsplit.export import ExportRefusedError, export_artifact

torch = pytest.importorskip("torch")

LAYOUT = "pytorch"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Exported]:
    return cached_exporter(tmp_path_factory, LAYOUT)


def build_module(done: Exported, group: dict[str, Any], fmt: str) -> Any:
    assert done.folder is not None and done.manifest is not None
    return build_torch_module(group["target"], group_arrays(done.folder, done.manifest, group["name"], fmt))


def run_record(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any], done: Exported, fmt: str
) -> tuple[np.ndarray, np.ndarray]:
    assert done.manifest is not None
    art = open_cached(str(folder / entry["path"]))
    keras_io = oracle(str(folder / model["oracle"]))
    x = torch.from_numpy(keras_io[f"{record['key']}/input"].astype(np.float64))
    want = keras_io[f"{record['key']}/output"]
    with torch.no_grad():
        if record.get("direction") in ("forward", "backward"):
            layer = find_layer(art, record["kernel_sha256"], record["key"])
            group = group_of(done.manifest, layer.name)
            assert group["target"]["kwargs"]["bidirectional"], "a Bidirectional pair is one module"
            seq = build_module(done, group, fmt)(x)[0]
            units = record["units"]
            if record["direction"] == "forward":
                seq = seq[..., :units]
            else:  # PyTorch returns the reverse direction in input time order; Keras in processing order
                seq = torch.flip(seq[..., units:], [1])
        else:
            first = find_layer(art, record["kernel_sha256"], record["key"])
            backwards = manifest_layer(done.manifest, first.name)["maths"]["go_backwards"]["value"]  # type: ignore[index]
            seq = torch.flip(x, [1]) if backwards else x  # the manifest's note says so for go_backwards
            for i, cell in enumerate(cells_of(record)):
                layer = find_layer(art, cell["kernel_sha256"], f"{record['key']}[{i}]")
                group = group_of(done.manifest, layer.name)
                assert not group["target"]["kwargs"]["bidirectional"]
                seq = build_module(done, group, fmt)(seq)[0]
        got = seq if record["return_sequences"] else seq[:, -1]
    return got.numpy(), want


def _error(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any], done: Exported
) -> float:
    got, want = run_record(folder, entry, model, record, done, "safetensors")
    assert got.shape == want.shape
    return float(np.max(np.abs(got - want)))


def _atol(record: dict[str, Any]) -> float:
    return max(ATOL[c.get("dtype", "float32")] for c in cells_of(record))


@pytest.mark.parametrize(("folder", "entry", "model", "record"), record_cases(None, FAMILIES))
def test_reproduces_keras_or_refuses_with_a_reason(
    folder: pathlib.Path, entry: dict[str, Any], model: dict[str, Any], record: dict[str, Any], exported: Any
) -> None:
    path = folder / entry["path"]
    layer = find_layer(open_cached(str(path)), record["kernel_sha256"], record["key"])
    assume = None if entry["has_config"] else "generation-default"
    done = exported(path, "safetensors", assume)
    reason = done.refused(layer.name)
    if reason is not None:
        assert reason.strip(), "a refusal must say why"
        assert assume is not None or not computable(record, LAYOUT), f"refused although computable: {reason}"
        return
    stated = manifest_layer(done.manifest, layer.name)  # type: ignore[arg-type]
    assert stated is not None
    wrong = [k for k, v in truth(record).items() if k in TRUTH_KEYS and stated["maths"][k]["value"] != v]
    assert all(stated["maths"][k]["origin"] == "assumed" for k in wrong), f"silently wrong: {wrong}"
    err = _error(folder, entry, model, record, done)
    if not wrong:
        assert computable(record, LAYOUT), "exported a layer PyTorch cannot compute"
        assert err <= _atol(record), f"max |torch - keras| = {err:.3g} > {_atol(record)}"
    else:  # an assumption that was wrong: visible in the manifest, and it does change the output
        assert err > _atol(record), f"assumed {wrong} yet the output matches Keras"


def test_weights_only_files_are_refused_until_the_user_assumes(tmp_path: pathlib.Path) -> None:
    """No config: the activations are not in the file, so PyTorch refuses, naming the option and the default."""
    art = open_cached(str(FIXTURES / "tf_keras" / "zoo_weights.h5"))
    with pytest.raises(ExportRefusedError) as info:
        export_artifact(art, out=tmp_path / "out", layout=LAYOUT)
    message = info.value.message
    assert "not stored in this file" in message and "--assume-activations" in message
    assert "recurrent_activation=sigmoid" in message  # what tf-keras 2.21 defaulted to
    assert not (tmp_path / "out").exists()
    result = export_artifact(
        art, out=tmp_path / "out", layout=LAYOUT, assume="generation-default", skip_unsupported=True
    )
    assert result.manifest["assumptions"] == {"activations": "generation-default"}
    origins = {lay["maths"]["activation"]["origin"] for g in result.manifest["groups"] for lay in g["layers"]}
    assert origins == {"assumed"}


@pytest.mark.parametrize("fmt", ["npy", "npz", "csv", "json"])
def test_torch_from_every_format(fmt: str, exported: Any) -> None:
    """The same state dict works whatever file format carried it (tf-keras zoo: Bidirectional, GRU)."""
    checked = 0
    for case in record_cases(lambda r: computable(r, LAYOUT), ("tf_keras",)):
        folder, entry, model, record = case.values
        if f"{folder.name}/{entry['path']}" != "tf_keras/zoo.h5":
            continue
        err = float(
            np.max(
                np.abs(
                    np.subtract(*run_record(folder, entry, model, record, exported(folder / entry["path"], fmt), fmt))
                )
            )
        )
        assert err <= 1e-5, record["key"]
        checked += 1
    assert checked >= 5


def test_swapped_gru_gates_would_not_match(exported: Any) -> None:
    """Negative control: feeding Keras's z r h order unchanged into torch's r z n breaks the output."""
    folder = FIXTURES / "keras3"
    done = exported(folder / "zoo.keras", "npz")
    group = group_of(done.manifest, "gru_ra_true")
    module = build_module(done, group, "npz")
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
    ("name", "reason", "alternative"),
    [
        ("gru_ra_false", "reset_after=False", "--layout onnx can"),
        (
            "lstm_acts",
            "activation relu = max(x, 0); recurrent_activation hard_sigmoid = relu6(x + 3) / 6",
            "--layout onnx can",
        ),
    ],
)
def test_pytorch_refuses_what_it_cannot_compute(name: str, reason: str, alternative: str) -> None:
    art = open_cached(str(FIXTURES / "keras3" / "zoo.keras"))
    with pytest.raises(ExportRefusedError) as info:
        export_artifact(
            art, out=pathlib.Path("/nonexistent/never-written"), layout=LAYOUT, selection=Selection(layers=(name,))
        )
    assert info.value.code == "export-refused"
    assert reason in info.value.message and alternative in info.value.message


@pytest.mark.parametrize("layout", ["pytorch", "onnx"])
def test_convlstm_is_refused(layout: str, tmp_path: pathlib.Path) -> None:
    art = open_cached(str(FIXTURES / "keras3" / "convlstm2d.keras"))
    with pytest.raises(ExportRefusedError, match="no ConvLSTM"):
        export_artifact(art, out=tmp_path / "out", layout=layout)
    assert not (tmp_path / "out").exists() and not list(tmp_path.iterdir())
