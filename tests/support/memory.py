"""Artifacts built in memory (no file), through the same classification and split as real files."""

from __future__ import annotations

import numpy as np

from kernelsplit.analysis.classify import classify
from kernelsplit.analysis.split import split
from kernelsplit.model import Artifact, ArtifactFormat, RecurrentLayer
from kernelsplit.readers.base import LayerDescription, StoredTensor, WeightGroup

GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


def layer(
    name: str,
    class_name: str = "LSTM",
    units: int = 3,
    input_dim: int = 2,
    seed: int = 0,
    hyper: dict[str, object] | None = None,
    described: bool = True,
) -> RecurrentLayer:
    """One cell with random weights (or those of ``seed``), classified and split as a reader's output."""
    rng = np.random.default_rng(seed)
    width = GATES[class_name] * units
    arrays = [
        rng.normal(size=(input_dim, width)).astype(np.float32),
        rng.normal(size=(units, width)).astype(np.float32),
        rng.normal(size=(width,)).astype(np.float32),
    ]
    tensors = [StoredTensor(a, f"{name}/{part}", "float32") for a, part in zip(arrays, ("k", "r", "b"), strict=True)]
    description = LayerDescription(class_name, class_name, dict(hyper or {})) if described else None
    (spec,) = classify(WeightGroup(name, tensors, description), ArtifactFormat.KERAS_ZIP)
    return split(spec)


def artifact(path: str, *layers: RecurrentLayer, fmt: ArtifactFormat = ArtifactFormat.KERAS_ZIP) -> Artifact:
    return Artifact(path=path, format=fmt, keras_version="3.15.1", layers=list(layers), total_layers=len(layers))
