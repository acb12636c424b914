"""The library entry points: ``kernelsplit.open(path)`` -> Artifact, ``try_open(path)`` -> Artifact | Failure.

The way of the data (docs/architecture.md): a reader states what is stored (``readers``), the
classification step decides what it is (``analysis/classify.py``), ``analysis/split.py`` cuts the
gate blocks, and the typed model (``model.py``) carries the result to renderers and exporters.
"""

from __future__ import annotations

import os

from .analysis.classify import classify
from .analysis.split import split
from .errors import KernelsplitError
from .maths import writer_of
from .model import Artifact, Failure
from .readers import read


def open_artifact(path: str | os.PathLike[str]) -> Artifact:
    """Read ``path``, split every recurrent cell and take every block's digest and statistics.

    The digests and statistics come from one streaming pass over each stored tensor, here, so a
    file that cannot be read fails now, not in the middle of a report; the arrays themselves are
    read again only when asked for (``GateTensor.array``). Raises KernelsplitError subclasses
    naming ``path``.
    """
    try:
        result = read(path)
        writer = writer_of(result.format, result.keras_version, result.written_by)
        layers = [split(spec) for group in result.groups for spec in classify(group, result.format, writer)]
        for layer in layers:
            for tensor in layer.tensors:
                tensor.block.summary()  # the pass runs once per stored tensor, for all its blocks
    except KernelsplitError as exc:
        raise exc.at(str(path)) from None
    return Artifact(
        path=str(path),
        format=result.format,
        keras_version=result.keras_version,
        backend=result.backend,
        layers=layers,
        executable_layers=result.executable_layers,
        notes=result.notes,
        total_layers=result.total_layers,
        writer=writer,
    )


def try_open(path: str | os.PathLike[str]) -> Artifact | Failure:
    """Like :func:`open_artifact`, but a file that cannot be read gives a :class:`Failure`.

    Only kernelsplit's own errors are caught: a hostile file's surprises become ``corrupt`` at the
    reader boundary (``kernelsplit.readers.read``); anything else is a bug and is raised.
    """
    try:
        return open_artifact(path)
    except KernelsplitError as exc:
        return Failure(path=str(path), error=exc)
