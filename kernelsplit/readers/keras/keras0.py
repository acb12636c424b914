"""Keras 0.x ``save_weights``: root attr ``nb_layers`` and groups ``layer_{k}/param_{n}``.

No names, no config: every layer's tensors go to the classification step as they are, which
finds the cells by shape and refuses what nameless shapes cannot identify (docs/formats.md,
"Keras 0.x").
"""

from __future__ import annotations

import h5py
import numpy as np

from ...errors import CorruptFileError
from ...model import ArtifactFormat, Binding
from ..base import ContainerKind, Probe, Reader, ReadResult, WeightGroup
from .h5safe import child, read_tensors

KERAS0_VERSION = "0.x"


class Keras0Reader(Reader):
    name = ArtifactFormat.H5_KERAS0

    def matches(self, probe: Probe) -> bool:
        return probe.kind == ContainerKind.HDF5 and "nb_layers" in probe.hdf5_root()[0]

    def read(self, probe: Probe) -> ReadResult:
        h5 = probe.hdf5()
        result = ReadResult(format=ArtifactFormat.H5_KERAS0, groups=[], keras_version=KERAS0_VERSION)
        count = _declared_count(h5.attrs.get("nb_layers"), "nb_layers", len(h5))
        for k in range(count):
            group = child(h5, f"layer_{k}", f"layer_{k}")
            if not isinstance(group, h5py.Group):
                raise CorruptFileError(f"layer_{k} listed by nb_layers is missing")
            n_params = _declared_count(group.attrs.get("nb_params", len(group)), f"layer_{k} nb_params", len(group))
            tensors = read_tensors(group, [f"param_{n}" for n in range(n_params)], f"layer_{k}")
            result.groups.append(WeightGroup(f"layer_{k}", tensors, binding=Binding("shapes", f"layer_{k}")))
        return result


def _declared_count(value: object, what: str, present: int) -> int:
    """A count the file declares, checked against the members really there before any loop uses it
    (a huge ``nb_params`` must not become a huge list)."""
    try:
        count = int(np.asarray(value).reshape(-1)[0]) if np.asarray(value).size == 1 else None
    except (TypeError, ValueError, OverflowError):
        count = None
    if count is None:
        raise CorruptFileError(f"{what} is not a number")
    if not 0 <= count <= present:
        raise CorruptFileError(f"{what} declares {count}, but the file holds {present} entries there")
    return count
