"""Every path the tests use, defined once. ``../shared`` exists on the team's machines and in CI,
not on a stranger's: tests that need it are marked ``needs_shared`` and skip with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
SCHEMAS = REPO / "kernelsplit" / "schemas"
SHARED = REPO.parent / "shared"
REALWORLD = SHARED / "realworld"

needs_shared = pytest.mark.skipif(
    not REALWORLD.is_dir(),
    reason=f"{REALWORLD} is absent: the real-world corpus lives beside the repo only on team machines and CI",
)
