"""Every public model file in ../shared/realworld must split exactly as Keras itself loads it.

Matching follows the corpus README: by content (the multiset of per-gate digests), then every
(part, gate) digest, shape and dtype, and the cell kind, units and direction.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from support.paths import REALWORLD, needs_shared

import kernelsplit


def _expected_files() -> list[str]:
    if not REALWORLD.is_dir():
        return []
    return sorted(p.name for p in (REALWORLD / "expected").glob("*.json"))


pytestmark = needs_shared


@pytest.mark.parametrize("expected_name", _expected_files())
def test_realworld_file_matches_keras(expected_name: str) -> None:
    expected = json.loads((REALWORLD / "expected" / expected_name).read_text())
    artifact = kernelsplit.open(REALWORLD / "files" / expected["local_file"])
    unmatched = list(artifact.layers)
    for want in expected["layers"]:
        digests = Counter(t["sha256"] for t in want["tensors"])
        layer = next((c for c in unmatched if Counter(t.sha256 for t in c.tensors) == digests), None)
        assert layer is not None, f"no reported layer carries the tensors of {want['name']}"
        unmatched.remove(layer)
        for tensor in want["tensors"]:
            got = layer.tensor(tensor["part"], tensor["gate"])
            assert got.sha256 == tensor["sha256"], (want["name"], tensor["part"], tensor["gate"])
            assert list(got.shape) == tensor["shape"]
            assert got.dtype == tensor["dtype"]
        assert (layer.cell, layer.units, layer.direction) == (want["cell_kind"], want["units"], want["direction"])
        assert list(layer.gates) == want["gate_order"]
    assert not unmatched, f"layers Keras does not have: {[c.name for c in unmatched]}"


def test_corpus_is_complete() -> None:
    """Guard against a silently shrinking corpus (21 files when this test was written)."""
    assert len(_expected_files()) >= 21
