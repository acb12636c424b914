"""Measure what ``kernelsplit check``'s thresholds are set from, over every model we can read.

For every recurrent layer of every file under the given folders (default: ``fixtures/`` and the
real-world corpus ``../shared/realworld/files``) this computes the quantity each rule with a
threshold compares:

* KS103 ``abs-max``: the largest |w| in any gate block of the layer;
* KS106 ``spectral-norm``: the largest singular value of a square recurrent gate block;
* KS107 ``forget-bias``: the mean effective forget-gate bias of an LSTM / ConvLSTM;
* KS104: the number of units whose incoming weights are all exactly zero;
* KS105 / KS111: the Gram deviation of the recurrent kernel from a scaled orthogonal matrix.

``fixtures/rules/`` holds deliberately broken models and is measured apart. The output lists each
quantity's extremes per corpus and the margin of the current defaults, so that a default can be
re-derived (README.md "Measurements behind the thresholds"). ``--json`` prints the raw table.

Usage: ``python benchmarks/measure_thresholds.py [--json] [FOLDER ...]``
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from kernelsplit.api import try_open  # noqa: E402
from kernelsplit.check.rules import RULES_BY_CODE, recurrent_at_orthogonal_init  # noqa: E402
from kernelsplit.discover import discover  # noqa: E402
from kernelsplit.model import Artifact, RecurrentLayer  # noqa: E402

FIXTURES = REPO / "fixtures"
REALWORLD = REPO.parent / "shared" / "realworld" / "files"


@dataclass
class LayerMeasure:
    corpus: str
    path: str
    layer: str
    cell: str
    units: int
    abs_max: float | None
    spectral_norm: float | None
    forget_bias: float | None
    dead_units: int
    gram_deviation: float | None
    at_orthogonal_init: bool


def _spectral(layer: RecurrentLayer) -> float | None:
    norms = [
        float(np.linalg.norm(np.asarray(t.array, np.float64), ord=2))
        for t in layer.tensors
        if t.part == "recurrent_kernel" and len(t.shape) == 2 and t.shape[0] == t.shape[1]
        if not (t.stats.nan or t.stats.inf)
    ]
    return max(norms) if norms else None


def _forget(layer: RecurrentLayer) -> float | None:
    if layer.cell not in ("lstm", "conv_lstm"):
        return None
    parts = [t for t in layer.tensors if t.gate == "f" and t.part in ("bias", "recurrent_bias")]
    if not parts or any(t.stats.nan or t.stats.inf for t in parts):
        return None
    return float(np.mean(sum(np.asarray(t.array, np.float64) for t in parts)))


def _dead(layer: RecurrentLayer) -> int:
    incoming = [t for t in layer.tensors if t.part in ("kernel", "recurrent_kernel")]
    if not incoming:
        return 0
    alive = np.zeros(layer.units, dtype=bool)
    for tensor in incoming:
        alive |= np.any(np.asarray(tensor.array).reshape(-1, tensor.shape[-1]) != 0, axis=0)
    return int((~alive).sum())


def _gram_deviation(layer: RecurrentLayer) -> float | None:
    """max |M Mᵀ − s²I| / s²: the smaller of the fused recurrent kernel's (not for Keras 1) and the
    worst gate block's, the two forms ``recurrent_at_orthogonal_init`` accepts."""
    blocks = [t for t in layer.tensors if t.part == "recurrent_kernel"]
    if not blocks or any(t.stats.nan or t.stats.inf for t in blocks):
        return None

    def deviation(matrix: np.ndarray) -> float:
        flat = np.asarray(matrix, np.float64).reshape(-1, matrix.shape[-1])
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        scale = float(np.mean(np.diag(gram)))
        return math.inf if scale <= 0 else float(np.abs(gram - scale * np.eye(gram.shape[0])).max()) / scale

    per_block = max(deviation(b.array) for b in blocks)
    if layer.conversion == "keras1":
        return per_block
    arrays = [b.array.T if layer.conversion == "cudnn" else b.array for b in blocks]
    return min(per_block, deviation(np.concatenate(arrays, axis=-1)))


def measure(artifact: Artifact, corpus: str) -> list[LayerMeasure]:
    out = []
    for layer in artifact.layers:
        abs_maxes = [t.stats.abs_max for t in layer.tensors if t.stats.abs_max is not None]
        out.append(
            LayerMeasure(
                corpus,
                artifact.path,
                layer.name,
                layer.cell,
                layer.units,
                max(abs_maxes) if abs_maxes else None,
                _spectral(layer),
                _forget(layer),
                _dead(layer),
                _gram_deviation(layer),
                recurrent_at_orthogonal_init(layer),
            )
        )
    return out


def corpus_of(path: str) -> str:
    resolved = Path(path).resolve()
    if (FIXTURES / "rules") in resolved.parents:
        return "rules-fixtures (broken on purpose)"
    if FIXTURES in resolved.parents:
        return "fixtures"
    return "realworld" if REALWORLD.resolve() in resolved.parents else "other"


def collect(folders: list[Path]) -> list[LayerMeasure]:
    rows: list[LayerMeasure] = []
    found = discover([str(f) for f in folders])
    for candidate in found.candidates:
        artifact = try_open(candidate.path)
        if isinstance(artifact, Artifact):
            rows += measure(artifact, corpus_of(candidate.path))
    return rows


def _top(rows: list[LayerMeasure], key: str, reverse: bool = True, n: int = 4) -> str:
    values = sorted(
        ((getattr(r, key), f"{Path(r.path).name}:{r.layer}") for r in rows if getattr(r, key) is not None),
        reverse=reverse,
    )
    if not values:
        return "n/a"
    median = statistics.median(v for v, _ in values)
    shown = ", ".join(f"{v:.4g} ({where})" for v, where in values[:n])
    return f"{shown}; median {median:.3g} over {len(values)} layers"


def report(rows: list[LayerMeasure]) -> str:
    defaults = {t.key: t.default for rule in RULES_BY_CODE.values() for t in rule.thresholds}
    lines = []
    for corpus in sorted({r.corpus for r in rows}):
        group = [r for r in rows if r.corpus == corpus]
        trained = [r for r in group if not r.at_orthogonal_init]
        files = len({r.path for r in group})
        lines.append(f"== {corpus}: {len(group)} recurrent layers in {files} files")
        lines.append(f"  KS103 abs-max (default {defaults['abs-max']:g}), largest: {_top(group, 'abs_max')}")
        lines.append(
            f"  KS106 spectral-norm (default {defaults['spectral-norm']:g}), largest: {_top(group, 'spectral_norm')}"
        )
        lines.append(
            f"  KS107 forget-bias (default {defaults['forget-bias']:g}), lowest: "
            f"{_top(group, 'forget_bias', reverse=False)}"
        )
        lines.append(f"  KS104 layers with a dead unit: {sum(r.dead_units > 0 for r in group)}")
        at_init = [r.gram_deviation for r in group if r.at_orthogonal_init and r.gram_deviation is not None]
        moved = [r.gram_deviation for r in trained if r.gram_deviation is not None]
        lines.append(
            f"  KS105/KS111 Gram deviation: at init max {max(at_init):.3g} ({len(at_init)} layers); "
            if at_init
            else "  KS105/KS111 Gram deviation: no layer at init; "
        )
        lines[-1] += f"trained min {min(moved):.3g} ({len(moved)} layers)" if moved else "no trained layer"
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true", help="print every layer's measures as JSON")
    args = parser.parse_args()
    folders = args.folders or [FIXTURES, *([REALWORLD] if REALWORLD.is_dir() else [])]
    rows = collect(folders)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
    else:
        print(report(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
