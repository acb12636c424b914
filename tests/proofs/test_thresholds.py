"""check's default thresholds keep a margin from every healthy model we can measure.

``benchmarks/measure_thresholds.py`` computes each rule's quantity per recurrent layer; here it runs
over the fixtures (always) and the real-world corpus (``needs_shared``): no healthy trained layer may
come within 2x of a default (abs-max, spectral-norm), within 1.5 of the forget-bias bound, or within
two orders of magnitude of the orthogonality tolerance, on either side. ``fixtures/rules`` holds the
deliberately broken models: each must still trip its rule.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from support.paths import FIXTURES, REALWORLD, REPO, needs_shared

from kernelsplit.check.config import Config
from kernelsplit.check.engine import run_check
from kernelsplit.check.rules import ORTHO_TOL, THRESHOLDS

#: The largest spectral norm of a trained recurrent gate block reported to us (a Keras 1 char-LSTM
#: outside this corpus, which the old default of 100 failed); kernelsplit/check/rules.toml.
LARGEST_KNOWN_SPECTRAL_NORM = 127.8


def _measure() -> ModuleType:
    spec = importlib.util.spec_from_file_location("measure_thresholds", REPO / "benchmarks" / "measure_thresholds.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("measure_thresholds", module)
    spec.loader.exec_module(module)
    return module


def default(key: str) -> float:
    return THRESHOLDS[key][1].default


def _assert_margins(folder: Path) -> int:
    rows = [r for r in _measure().collect([folder]) if not r.corpus.startswith("rules")]
    assert rows
    trained = [r for r in rows if not r.at_orthogonal_init]
    at_init = [r for r in rows if r.at_orthogonal_init]
    assert max(r.abs_max for r in rows if r.abs_max is not None) * 2 <= default("abs-max")
    assert max(r.spectral_norm for r in rows if r.spectral_norm is not None) * 2 <= default("spectral-norm")
    assert min(r.forget_bias for r in rows if r.forget_bias is not None) >= default("forget-bias") + 1.5
    assert all(r.dead_units == 0 for r in rows)
    assert min(r.gram_deviation for r in trained) >= 100 * ORTHO_TOL
    assert all(r.gram_deviation <= ORTHO_TOL / 100 for r in at_init)
    return len(rows)


def test_the_largest_healthy_spectral_norm_known_is_far_below_the_default() -> None:
    assert default("spectral-norm") >= LARGEST_KNOWN_SPECTRAL_NORM * 2


def test_fixture_models_keep_their_margins() -> None:
    assert _assert_margins(FIXTURES) > 250


@needs_shared
def test_realworld_models_keep_their_margins() -> None:
    assert _assert_margins(REALWORLD / "files") >= 43


@needs_shared
def test_realworld_corpus_passes_check_with_the_defaults() -> None:
    """Every public model passes; the findings are the documented ones (untrained DL4J resources,
    info on weights-only files): no threshold rule fires on a healthy trained model."""
    report = run_check([str(REALWORLD / "files")], Config())
    assert report.exit_code == 0 and not report.errors
    assert len(report.artifacts) >= 21
    assert {f.code for f in report.findings} <= {"KS105", "KS109", "KS111"}
    assert {f.code for f in report.findings if f.severity != "info"} == {"KS105"}


@pytest.mark.parametrize(("name", "code"), [("spectral_norm.keras", "KS106"), ("scaled_recurrent.keras", "KS106")])
def test_broken_fixtures_still_trip_the_new_defaults(name: str, code: str) -> None:
    report = run_check([str(FIXTURES / "rules" / name)], Config())
    crossed = [f for f in report.findings if f.code == code]
    assert crossed and all(f.value is not None and f.value > default("spectral-norm") for f in crossed)
    assert all(f.help and f"--set {code}.spectral-norm=N" in f.help for f in crossed)
