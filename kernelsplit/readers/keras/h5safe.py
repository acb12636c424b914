"""Defensive h5py access: hard links only, no external or virtual storage, no shape bombs.

Model files are untrusted input. These checks follow what recent Keras enforces in
``saving_lib`` (docs/formats.md, "Hostile files") so that a crafted file can neither make us read another file on
disk nor allocate memory out of proportion to its own size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ...errors import CorruptFileError, UnsafeFileError
from ...tensordata import ArrayData, TensorData
from ..base import StoredTensor, charge, short_reason
from .h5data import H5Data, H5Source


def open_file(source: Path | H5Source, what: str = "") -> h5py.File:
    """Open HDF5 read-only; ``what`` names an inner file (a zip member, a shard) in errors.

    Datasets read through the handle stay readable after it is closed: they reopen their
    :class:`~kernelsplit.readers.keras.h5data.H5Source` on demand.
    """
    try:
        if not isinstance(source, H5Source):
            source = H5Source(Path(source), what=what)
        return source.open()
    except (OSError, ValueError) as exc:
        inner = f" in {what}" if what else ""
        raise CorruptFileError(f"truncated or corrupt HDF5{inner} ({short_reason(exc)})") from None


def decode_str(value: Any) -> str:
    """h5py 2 gives ``bytes``/``numpy.bytes_``, h5py 3 gives ``str``: accept both."""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return decode_str(value[()])
    return str(value)


def str_list_attr(obj: h5py.Group | h5py.File, name: str) -> list[str] | None:
    """A list-valued attribute, concatenating Keras's chunked ``name0``, ``name1``... form."""
    attrs = obj.attrs
    if name in attrs:
        chunks = [attrs[name]]
    elif f"{name}0" in attrs:
        chunks = []
        index = 0
        while f"{name}{index}" in attrs:
            chunks.append(attrs[f"{name}{index}"])
            index += 1
    else:
        return None
    values: list[str] = []
    for chunk in chunks:
        array = np.asarray(chunk)
        if array.dtype.kind == "f" and array.size == 0:  # empty list stored as float64 []
            continue
        values.extend(decode_str(v) for v in array.reshape(-1))
    return values


def str_attr(obj: h5py.Group | h5py.File, name: str) -> str | None:
    if name not in obj.attrs:
        return None
    return decode_str(obj.attrs[name])


def child(group: h5py.Group, name: str, where: str) -> h5py.Group | h5py.Dataset | None:
    """``group[name]`` following hard links only; ``None`` when absent.

    ``name`` may contain ``/``; every component is checked, so a soft or external link anywhere
    on the path is refused rather than followed.
    """
    current: Any = group
    for component in [c for c in name.split("/") if c]:
        if not isinstance(current, h5py.Group):
            return None
        try:
            link = current.get(component, getlink=True)
        except (KeyError, OSError, RuntimeError, ValueError) as exc:
            raise CorruptFileError(f"cannot read HDF5 entry {where}: {exc}") from None
        if link is None:
            return None
        if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
            kind = "soft" if isinstance(link, h5py.SoftLink) else "external"
            raise UnsafeFileError(f"HDF5 {kind} link at {where} (refused: links can point outside the file)")
        try:
            current = current[component]
        except (KeyError, OSError, RuntimeError, ValueError) as exc:
            raise CorruptFileError(f"cannot read HDF5 entry {where}: {exc}") from None
    return current


def read_dataset(dataset: h5py.Dataset, where: str, source: H5Source | None = None) -> tuple[TensorData, str]:
    """A weight dataset, to be read on demand: ``(data, stored dtype name)``.

    The shape and type are checked and the declared bytes charged to the artifact's shape-bomb
    budget; a large dataset is not read yet (``H5Data``), a small one is, now (``h5data.SMALL_BYTES``).
    bfloat16 (Keras 3 stores it as opaque ``|V2`` with ``attrs['dtype'] = 'bfloat16'``) is read as
    its raw 16-bit words and decoded to float32 values, so digests stay byte-exact. ``source``: the
    dataset's file's source, when the caller knows it.
    """
    try:
        if dataset.is_virtual:
            raise UnsafeFileError(f"virtual dataset at {where} (refused: it maps other files)")
        if dataset.external:
            raise UnsafeFileError(f"external-storage dataset at {where} (refused: data lives outside the file)")
        declared = int(np.prod(dataset.shape, dtype=np.float64)) * dataset.dtype.itemsize
        charge(declared, where, lambda: int(dataset.file.id.get_filesize()), identity=hash(dataset.id))
        stored = dataset.dtype
        stored_dtype = str_attr(dataset, "dtype") if "dtype" in dataset.attrs else None
        if stored.kind == "V" and stored.itemsize == 2 and stored_dtype == "bfloat16":
            words, name = np.dtype("<u2"), "bfloat16"
        elif stored.kind not in "fiu":
            raise CorruptFileError(f"dataset {where} has non-numeric dtype {stored}")
        else:
            words = stored.newbyteorder("<") if stored.byteorder == ">" else stored
            name = str(words)
        source = source or H5Source.of(dataset.file)
        if source is None or source.keep_small(declared):  # small, or a handle opened elsewhere: now
            values = np.asarray(dataset[()])
            return ArrayData(values.view(words) if stored.kind == "V" else values), name
        return H5Data(source, dataset, where, words), name
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        raise CorruptFileError(f"cannot read dataset {where}: {exc}") from None


def read_tensors(group: h5py.Group, names: list[str], where: str) -> list[StoredTensor]:
    """The datasets ``names`` of ``group``, in that order (never HDF5's alphabetical order)."""
    tensors = []
    source = H5Source.of(group.file) if names else None
    for name in names:
        path = f"{where}/{name}" if where else name
        dataset = child(group, name, path)
        if not isinstance(dataset, h5py.Dataset):
            raise CorruptFileError(f"{path} is missing or not a dataset")
        data, dtype = read_dataset(dataset, path, source)
        tensors.append(StoredTensor(source=path, dtype=dtype, name=name, data=data))
    return tensors
