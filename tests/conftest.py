"""Shared test paths. ``../shared`` exists on the team's machines and in CI, not on a stranger's."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
SHARED = REPO.parent / "shared"
REALWORLD = SHARED / "realworld"

needs_shared = pytest.mark.skipif(
    not REALWORLD.is_dir(),
    reason=f"{REALWORLD} is absent: the real-world corpus lives beside the repo only on team machines and CI",
)
