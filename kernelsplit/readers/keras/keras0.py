"""Keras 0.x ``save_weights``: root attr ``nb_layers`` and groups ``layer_{k}/param_{n}``.

No names, no config: every layer's tensors go to the classification step as they are, which
finds the cells by shape and refuses what nameless shapes cannot identify (docs/formats.md,
"Keras 0.x").
"""

from __future__ import annotations

import h5py

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
        try:
            count = int(h5.attrs["nb_layers"])
        except (TypeError, ValueError) as exc:
            raise CorruptFileError(f"nb_layers attribute is not a number: {exc}") from None
        for k in range(count):
            group = child(h5, f"layer_{k}", f"layer_{k}")
            if not isinstance(group, h5py.Group):
                raise CorruptFileError(f"layer_{k} listed by nb_layers is missing")
            n_params = int(group.attrs.get("nb_params", len(group)))
            tensors = read_tensors(group, [f"param_{n}" for n in range(n_params)], f"layer_{k}")
            result.groups.append(WeightGroup(f"layer_{k}", tensors, binding=Binding("shapes", f"layer_{k}")))
        return result
