"""``check``'s bounded analyses give the exact ones' answers on every real file.

KS106 once ran a full SVD per gate block and KS105/KS111 the full Gram matrix of every recurrent
kernel; now the spectral norm comes from Lanczos (``check/linalg.py``, 1e-6 relative) behind two
upper bounds, and orthogonality is refuted from a few rows first. Here the exact computations run
beside them on every recurrent block of every fixture and real-world file: the same decisions,
norms within the stated tolerance, bounds that really bound. (Which findings fire on those files
is pinned in test_check_rules.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
from support.fixtures import load_json, manifests
from support.paths import REALWORLD, needs_shared

import kernelsplit
from kernelsplit.check import linalg
from kernelsplit.check.config import Config
from kernelsplit.check.engine import check_artifact
from kernelsplit.check.rules import _scaled_semi_orthogonal, _tolerance, recurrent_at_orthogonal_init
from kernelsplit.model import RecurrentLayer

RTOL = 2 * linalg.SPECTRAL_RTOL  # the test's margin over the stated tolerance: 2x


def _files() -> list[object]:
    files = []
    for manifest_path in manifests():
        for entry in load_json(manifest_path)["files"]:
            files.append(pytest.param(str(manifest_path.parent / entry["path"]), id=entry["path"]))
    if REALWORLD.is_dir():
        for expected in sorted((REALWORLD / "expected").glob("*.json")):
            name = load_json(expected)["local_file"]
            files.append(pytest.param(str(REALWORLD / "files" / name), id=name, marks=needs_shared))
    return files


def exact_orthogonal_init(layer: RecurrentLayer) -> bool:
    """The test as it was before it was bounded: the Gram matrices of the whole kernel, then each block."""
    blocks = [t for t in layer.tensors if t.part == "recurrent_kernel"]
    if not blocks:
        return False
    tol = _tolerance(blocks[0].dtype)
    if layer.conversion != "keras1":
        arrays = [b.array.T if layer.conversion == "cudnn" else b.array for b in blocks]
        if _scaled_semi_orthogonal(np.concatenate(arrays, axis=-1), tol):
            return True
    return all(_scaled_semi_orthogonal(b.array, tol) for b in blocks)


def _square_blocks(layer: RecurrentLayer) -> list:
    return [
        t
        for t in layer.tensors
        if t.part == "recurrent_kernel" and len(t.shape) == 2 and t.shape[0] == t.shape[1] and not t.stats.inf
    ]


@pytest.mark.parametrize("path", _files())
def test_bounded_analyses_match_the_exact_ones(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linalg, "EXACT_BELOW", 8)  # Lanczos even on the fixtures' small blocks
    artifact = kernelsplit.open(path)
    for layer in artifact.layers:
        assert recurrent_at_orthogonal_init(layer) == exact_orthogonal_init(layer), layer.name
        blocks = [t for t in _square_blocks(layer) if not t.stats.nan]
        bounds = linalg.abs_sum_bounds([t.block for t in blocks]) if blocks else []
        for tensor, bound in zip(blocks, bounds, strict=True):
            exact = float(np.linalg.norm(np.asarray(tensor.array, dtype=np.float64), ord=2))
            assert linalg.spectral_norm(tensor.array) == pytest.approx(exact, rel=RTOL, abs=1e-300), tensor.source
            assert exact <= bound and exact <= (tensor.stats.l2 or 0.0) * linalg.BOUND_MARGIN, tensor.source


@pytest.mark.parametrize("path", _files())
def test_ks106_fires_where_the_exact_norm_exceeds_the_threshold(path: str) -> None:
    """A threshold of 1 makes KS106 look at nearly every block (bounds rarely settle it)."""
    artifact = kernelsplit.open(path)
    config = Config(thresholds={"spectral-norm": 1.0})
    findings, failures = check_artifact(artifact, config)
    assert not failures
    got = {(f.layer, f.gate): f.value for f in findings if f.code == "KS106"}
    want = {}
    for layer in artifact.layers:
        for tensor in _square_blocks(layer):
            if not tensor.stats.nan:
                exact = float(np.linalg.norm(np.asarray(tensor.array, dtype=np.float64), ord=2))
                if exact > 1.0:
                    want[(layer.name, tensor.gate)] = exact
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=RTOL), key


def _spectra() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    u = 300
    q1, _ = np.linalg.qr(rng.normal(size=(u, u)))
    q2, _ = np.linalg.qr(rng.normal(size=(u, u)))
    return {
        "gaussian": rng.normal(size=(u, u)),
        "gaussian wide": rng.normal(size=(150, 600)),
        "gaussian tall": rng.normal(size=(600, 150)),
        "orthogonal x 3": 3 * q1,
        "rank one": np.outer(rng.normal(size=u), rng.normal(size=u)),
        "two equal top values": (q1 * np.r_[5.0, 5.0, np.linspace(1, 0, u - 2)]) @ q2.T,
        "close top values": (q1 * np.r_[5.0, 5.0 - 1e-7, np.linspace(4, 0, u - 2)]) @ q2.T,
        "geometric decay": (q1 * 0.9 ** np.arange(u)) @ q2.T,
        "float32 trained-like": (rng.normal(size=(u, u)) * 0.05).astype(np.float32),
        "zeros": np.zeros((u, u)),
        "huge": rng.normal(size=(u, u)) * 1e150,
    }


@pytest.mark.parametrize("name", sorted(_spectra()))
def test_lanczos_meets_its_tolerance_on_awkward_spectra(name: str) -> None:
    matrix = _spectra()[name]
    exact = float(np.linalg.norm(np.asarray(matrix, dtype=np.float64), ord=2))
    assert linalg.spectral_norm(matrix) == pytest.approx(exact, rel=RTOL, abs=0.0)
