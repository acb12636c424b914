"""Keras 3 (and tf-keras >= 2.12) v3 stores: ``.keras`` zips, unzipped folders, ``.weights.h5``.

Cells are bound to store groups by walking the config the way the writing Keras walked its model
(``layers/lstm/cell/vars``; tf-keras 2.12-2.14 name containers ``_layer_checkpoint_dependencies``
and 2.12/2.13 count differently: :class:`StoreNamer`). A configured recurrent layer whose weights
are not found is an ``incomplete`` error, never a silent omission. Without a config, every
``vars`` group holding tensors is handed on with its store path as the class hint
(docs/formats.md, "Keras 3 .keras" and "tf-keras 2.12–2.14 store names").
"""

from __future__ import annotations

import io
import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py

from ...errors import (
    AmbiguousFileError,
    CorruptFileError,
    IncompleteError,
    NotAModelError,
    TooLargeError,
    UnsafeFileError,
    UnsupportedError,
)
from ...model import ArtifactFormat, Binding
from ..base import (
    MAX_JSON_BYTES,
    ContainerKind,
    Probe,
    Reader,
    ReadResult,
    StoredTensor,
    WeightGroup,
    allocated_bytes,
    budget_for,
    listing,
    load_json,
    read_member,
    require_regular,
    short_reason,
)
from .config_walk import (
    Cell,
    LayerConfig,
    Owner,
    executable_layers,
    holds_cells,
    snake_case,
    unknown_class_note,
    walk_container,
    walk_layer,
)
from .h5data import H5Source
from .h5safe import open_file, read_tensors
from .v3_store import V3Store

if TYPE_CHECKING:
    import zipfile

WEIGHTS_H5 = "model.weights.h5"
WEIGHTS_NPZ = "model.weights.npz"
#: Keras stores members uncompressed; a member inflating 100x past 64 MiB is refused, not inflated.
_ZIP_BOMB_RATIO = 100
_ZIP_BOMB_BYTES = 64 << 20
#: A .keras holds three files and an assets folder; a million members is not a model.
MAX_ZIP_MEMBERS = 10_000
_ALT_LAYERS = "_layer_checkpoint_dependencies"
#: Groups tried per layer when binding by saving order (docs/formats.md, "tf-keras 2.12–2.14 store names").
_MAX_ORDER_TRIES = 64
_NPZ_MESSAGE = "weights are model.weights.npz: reading them needs pickle, which can run code"


class KerasZipReader(Reader):
    """A ``.keras`` zip: ``config.json``, ``metadata.json``, ``model.weights.h5``."""

    name = ArtifactFormat.KERAS_ZIP

    def matches(self, probe: Probe) -> bool:
        return probe.kind == ContainerKind.ZIP

    def read(self, probe: Probe) -> ReadResult:
        import zipfile  # not at module level: it costs start-up time for every .h5 file

        try:
            archive = zipfile.ZipFile(probe.path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CorruptFileError(f"not a readable zip archive: {short_reason(exc)}") from None
        with archive:
            members = archive.namelist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise TooLargeError(f"zip archive of {len(members)} members, more than the {MAX_ZIP_MEMBERS} read")
            names = set(members)
            if len(names) != len(members):
                twice = next(name for name, count in Counter(members).items() if count > 1)
                raise AmbiguousFileError(
                    f"zip member {twice} is stored twice: zip tools keeping the first or the last "
                    "would see different models"
                )
            if "config.json" not in names:
                raise NotAModelError("zip archive without config.json: not a .keras model")
            budget = zip_budget(probe.path)
            config = _parse_json(_zip_member(archive, "config.json", MAX_JSON_BYTES), "config.json")
            metadata = {}
            if "metadata.json" in names:
                metadata = _parse_json(_zip_member(archive, "metadata.json", MAX_JSON_BYTES), "metadata.json")
            code = code_members(members, lambda name: _zip_head(archive, name))
            if WEIGHTS_H5 not in names:
                if WEIGHTS_NPZ in names:
                    raise UnsafeFileError(f"{_NPZ_MESSAGE}; re-save with the default .h5 weights")
                raise CorruptFileError(f".keras archive has no {WEIGHTS_H5}")
            weights = _weights_source(archive, probe.path, budget)
        result = _read_v3(weights, config, metadata, ArtifactFormat.KERAS_ZIP)
        result.executable_layers += code
        return result


class KerasDirReader(Reader):
    """An unzipped ``.keras`` (Keras >= 3.4 ``zipped=False``): the same three files in a folder."""

    name = ArtifactFormat.KERAS_DIR

    def matches(self, probe: Probe) -> bool:
        return probe.has_entry("config.json") and probe.has_entry("metadata.json")

    def read(self, probe: Probe) -> ReadResult:
        path = probe.path
        config = _parse_json(read_member(path / "config.json", "config.json", MAX_JSON_BYTES), "config.json")
        metadata_path = path / "metadata.json"
        metadata = (
            _parse_json(read_member(metadata_path, "metadata.json", MAX_JSON_BYTES), "metadata.json")
            if metadata_path.exists()
            else {}
        )
        members = sorted(p.name for p in path.iterdir())
        if len(members) > MAX_ZIP_MEMBERS:
            raise TooLargeError(f"folder of {len(members)} entries, more than the {MAX_ZIP_MEMBERS} read")
        code = code_members(members)
        weights_path = path / WEIGHTS_H5
        if not weights_path.exists():
            if (path / WEIGHTS_NPZ).exists():
                raise UnsafeFileError(_NPZ_MESSAGE)
            raise CorruptFileError(f"folder has config.json but no {WEIGHTS_H5}")
        require_regular(weights_path, WEIGHTS_H5)
        result = _read_v3(weights_path, config, metadata, ArtifactFormat.KERAS_DIR)
        result.executable_layers += code
        return result


class V3WeightsReader(Reader):
    """Keras 3 ``save_weights("x.weights.h5")``: the v3 store alone, without a config."""

    name = ArtifactFormat.KERAS3_WEIGHTS_H5

    def matches(self, probe: Probe) -> bool:
        if probe.kind != ContainerKind.HDF5:
            return False
        keys = probe.hdf5_root()[1]
        windows = any(key.startswith(("layers\\", f"{_ALT_LAYERS}\\")) for key in keys)
        return windows or bool(keys & {"layers", _ALT_LAYERS, "vars"})

    def read(self, probe: Probe) -> ReadResult:
        result = ReadResult(format=ArtifactFormat.KERAS3_WEIGHTS_H5, groups=[])
        _groups_without_config(V3Store(probe.hdf5()), result)
        return result


def zip_budget(path: Path) -> int:
    """The most a member may inflate to: the shape-bomb budget of the archive's bytes on disk."""
    return budget_for(allocated_bytes(path))


def _zip_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, refused before inflating when it declares more than ``limit`` or a bomb's ratio.

    ``zipfile`` stops at the declared size (and checks the CRC), so the declaration bounds memory.
    """
    import zipfile

    _check_member(archive.getinfo(name), limit)
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise CorruptFileError(f"cannot read {name} from the archive: {short_reason(exc)}") from None


def _check_member(info: zipfile.ZipInfo, limit: int) -> None:
    """Refuse a member declaring more than ``limit`` bytes, or a bomb's inflation ratio."""
    ratio_bomb = info.file_size > _ZIP_BOMB_BYTES and info.file_size > _ZIP_BOMB_RATIO * max(info.compress_size, 1)
    if ratio_bomb or info.file_size > limit:
        raise UnsafeFileError(
            f"zip member {info.filename} declares {info.file_size} bytes from {info.compress_size} stored, "
            f"more than the {limit} this archive's size allows (zip bomb)"
        )


#: Bytes of a zip local file header before its name and extra field (APPNOTE 4.3.7).
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _weights_source(archive: zipfile.ZipFile, path: Path, limit: int) -> H5Source:
    """``model.weights.h5`` where it lies: a STORED member is read in place (a window of the
    archive, never copied; its CRC is not verified, as Keras's own seeking reader does not); a
    compressed one is inflated in 1 MiB pieces into an anonymous temporary file, CRC-checked
    (memory stays bounded; disk use is its declared size, at most ``limit``)."""
    import shutil
    import tempfile
    import zipfile

    info = archive.getinfo(WEIGHTS_H5)
    _check_member(info, limit)
    if info.flag_bits & 0x1:
        raise UnsupportedError(f"{WEIGHTS_H5} is encrypted in the archive")
    if info.compress_type == zipfile.ZIP_STORED:
        with path.open("rb") as handle:
            handle.seek(info.header_offset)
            header = handle.read(_LOCAL_HEADER.size)
            end = handle.seek(0, io.SEEK_END)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise CorruptFileError(f"the archive's local header of {WEIGHTS_H5} is missing or damaged")
        fields = _LOCAL_HEADER.unpack(header)
        start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
        if start + info.file_size > end or info.compress_size != info.file_size:
            raise CorruptFileError(f"{WEIGHTS_H5} runs past the end of the archive (truncated zip)")
        return H5Source(path, base=start, size=info.file_size, what=WEIGHTS_H5)
    spool = tempfile.TemporaryFile(prefix="kernelsplit-")  # noqa: SIM115 - the source keeps it open
    try:
        with archive.open(info) as member:
            shutil.copyfileobj(member, spool, 1 << 20)
        spool.flush()
        return H5Source(None, keep=spool, what=WEIGHTS_H5)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        spool.close()
        raise CorruptFileError(f"cannot read {WEIGHTS_H5} from the archive: {short_reason(exc)}") from None
    except BaseException:
        spool.close()
        raise


def _zip_head(archive: zipfile.ZipFile, name: str) -> bytes:
    """The first bytes of a member (to recognise a pickle), or nothing when they cannot be read."""
    try:
        with archive.open(name) as handle:
            return handle.read(4)
    except Exception:  # a damaged member is only not recognised here; reading it would fail elsewhere
        return b""


#: Names of files in a ``.keras`` archive or folder that are code, or data only pickle can read.
_CODE_SUFFIXES = {
    ".py": "Python source",
    ".pyc": "Python bytecode",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle (joblib)",
    ".dill": "pickle (dill)",
    ".npz": "numpy archive (may hold pickled objects)",
    ".pt": "PyTorch pickle",
    ".pth": "PyTorch pickle",
    ".so": "native library",
    ".dll": "native library",
    ".dylib": "native library",
}
_PICKLE_MAGIC = tuple(bytes([0x80, protocol]) for protocol in range(2, 6))


def code_members(names: list[str], head: Callable[[str], bytes] | None = None) -> list[str]:
    """Entries for ``executable_layers``: archive members that are code or pickles (Keras never
    writes them; a loader or a user script could run them). Listed, never read."""
    found = []
    for name in names:
        if name.endswith("/") or name == WEIGHTS_NPZ:  # folders; npz weights are refused on their own
            continue
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
        kind = _CODE_SUFFIXES.get(suffix)
        known = name in (WEIGHTS_H5, "config.json", "metadata.json")
        if kind is None and head is not None and not known and head(name)[:2] in _PICKLE_MAGIC:
            kind = "pickle"
        if kind is not None:
            found.append(f"{name} (archive member: {kind})")
    return found


def _parse_json(data: bytes, what: str) -> Any:
    return load_json(data, what)


def _read_v3(source: Any, config: Any, metadata: Any, fmt: ArtifactFormat) -> ReadResult:
    keras_version = metadata.get("keras_version") if isinstance(metadata, dict) else None
    if not isinstance(keras_version, str):
        keras_version = None
    result = ReadResult(format=fmt, groups=[], keras_version=keras_version, executable_layers=executable_layers(config))
    with open_file(source, WEIGHTS_H5) as h5:
        store = V3Store(h5, f"{WEIGHTS_H5}:")
        if store.windows:
            result.notes.append("weight store saved on Windows: its groups are named by backslash-joined paths")
        model = LayerConfig.from_entry(config)
        if model.sublayers is None:
            result.notes.append(
                f"config.json describes a {model.class_name} without a layer list "
                "(subclassed model): cells found from the weight store's shapes"
            )
            _groups_without_config(store, result)
            return result
        result.total_layers = len(model.sublayers)
        namer = StoreNamer(store, keras_version)
        missing: list[str] = []
        unknown = _UnknownClasses(store)
        for owner in walk_container(model, "", "", namer=namer):
            cell = owner.cell
            if cell is None:
                if owner.counts is None and owner.v3_path:
                    unknown.add(owner, result)
                continue
            comps = tuple(cell.v3_path.split("/")) if cell.v3_path is not None else None
            group = store.vars(comps) if comps is not None else None
            if comps is None or group is None or not len(group):
                missing.append(namer.why_missing(cell.name, cell.v3_path))
                continue
            tensors = numbered_tensors(group, store.where(comps))
            binding = Binding(cell.found_by, store.where(comps))
            result.groups.append(WeightGroup(cell.name, tensors, cell.description, cell.direction, binding=binding))
    if missing:
        raise IncompleteError("the config names recurrent layers whose weights are not stored: " + listing(missing))
    return result


class _UnknownClasses:
    """The stored weights of layers whose class the config walk does not know (a custom subclass
    of LSTM, a custom cell), handed on to be searched for cells by shape: a recurrent layer is
    never dropped because its class is not Keras's (docs/formats.md, "Classes kernelsplit does not know")."""

    def __init__(self, store: V3Store) -> None:
        self.store = store
        self._under: dict[tuple[str, ...], list[tuple[str, ...]]] | None = None

    def objects_under(self, comps: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The data objects at or below ``comps`` (an index built once: no scan per layer)."""
        if self._under is None:
            self._under = {}
            for found in self.store.data_objects():
                for depth in range(1, len(found) + 1):
                    self._under.setdefault(found[:depth], []).append(found)
        return self._under.get(comps, [])

    def add(self, owner: Owner, result: ReadResult) -> None:
        assert owner.v3_path
        comps = tuple(owner.v3_path.split("/"))
        for found in self.objects_under(comps):
            group = self.store.vars(found)
            if group is None:
                continue
            where = self.store.where(found)
            weights = store_group(numbered_tensors(group, where), list(found))
            inner = [part for part in found[len(comps) :] if part not in ("layers", "cell", "cells")]
            weights.name = "/".join([owner.name, *inner])
            weights.binding = Binding("shapes", where)
            weights.notes.append(unknown_class_note(owner.class_name, owner.name))
            result.groups.append(weights)


class StoreNamer:
    """Names a container's store groups the way the Keras that wrote the file did.

    Keras 3 and tf-keras >= 2.14 count each class per container: ``lstm``, ``lstm_1``... tf-keras
    2.12/2.13 also count a layer's second appearance in ``_layer_checkpoint_dependencies``, so each
    earlier layer of the class *with weights* adds two: ``lstm``, ``lstm_2``, ``lstm_4``. The rule
    of the version in ``metadata.json`` is tried first, the other one if it leaves a recurrent layer
    without a group; a layer neither rule finds takes the next unclaimed group of its class, in
    saving order, if its shapes fit (docs/formats.md, "tf-keras 2.12–2.14 store names").
    """

    def __init__(self, store: V3Store, keras_version: str | None) -> None:
        self.store = store
        version = (keras_version or "").split(".")[:2]
        self.counts_twice = version in (["2", "12"], ["2", "13"])
        self._looked: dict[str, str] = {}

    def __call__(self, owner_path: str, sublayers: list[LayerConfig]) -> list[tuple[str | None, str]]:
        comps = tuple(owner_path.split("/")) if owner_path else ()
        kids = self.store.children(comps)
        container = next((c for c in ("layers", _ALT_LAYERS) if c in kids), None)
        if container is None:
            where = self.store.where(comps).removesuffix("/vars") if comps else "the store's root"
            for sub in sublayers:
                self._looked[sub.name] = f"no layers or {_ALT_LAYERS} group under {where}"
            return [(None, "store-path")] * len(sublayers)
        base = (*comps, container)
        present = set(self.store.children(base))
        recurrent = [holds_cells(sub) for sub in sublayers]
        names = self._names(sublayers, base, self.counts_twice)
        if any(r and n not in present for r, n in zip(recurrent, names, strict=True)):
            other = self._names(sublayers, base, not self.counts_twice)
            if all(n in present for r, n in zip(recurrent, other, strict=True) if r):
                names = other
        claimed = {n for n in names if n in present}
        prefix = "/".join(base)
        out: list[tuple[str | None, str]] = []
        for sub, name, is_recurrent in zip(sublayers, names, recurrent, strict=True):
            if name in present:
                out.append((f"{prefix}/{name}", "store-path"))
                continue
            found = self._by_order(sub, base, present - claimed) if is_recurrent else None
            if found is not None:
                claimed.add(found)
                out.append((f"{prefix}/{found}", "store-order"))
                continue
            stem = snake_case(sub.class_name)
            groups = sorted((g for g in present if _of_class(g, stem)), key=lambda g: _suffix(g, stem))
            expected = self.store.where((*base, name)).removesuffix("/vars")
            self._looked[sub.name] = f"expected group {expected}; {stem} groups there: {', '.join(groups) or 'none'}"
            out.append((None, "store-path"))
        return out

    def _names(self, sublayers: list[LayerConfig], base: tuple[str, ...], counts_twice: bool) -> list[str]:
        counters: dict[str, int] = {}
        names = []
        for sub in sublayers:
            stem = snake_case(sub.class_name)
            index = counters.get(stem, 0)
            name = stem if index == 0 else f"{stem}_{index}"
            names.append(name)
            weighted = counts_twice and self.store.holds_data((*base, name))
            counters[stem] = index + (2 if weighted else 1)
        return names

    def _by_order(self, sub: LayerConfig, base: tuple[str, ...], free: set[str]) -> str | None:
        """The first unclaimed group of the layer's class whose cells' shapes fit the config.

        At most :data:`_MAX_ORDER_TRIES` groups are tried per layer, so a file with thousands of
        unmatched groups costs linear work, not layers × groups.
        """
        stem = snake_case(sub.class_name)
        cells = [owner.cell for owner in walk_layer(sub, "", "") if owner.cell is not None]
        if not cells:
            return None
        candidates = sorted((g for g in free if _of_class(g, stem)), key=lambda g: _suffix(g, stem))
        for group in candidates[:_MAX_ORDER_TRIES]:
            if all(self._fits(cell, (*base, group)) for cell in cells):
                return group
        return None

    def _fits(self, cell: Cell, layer_comps: tuple[str, ...]) -> bool:
        """The group holds the cell's tensor count, and a (units, G·units) recurrent kernel."""
        relative = [c for c in (cell.v3_path or "").split("/") if c]
        group = self.store.vars((*layer_comps, *relative))
        if group is None or len(group) != cell.n_weights:
            return False
        recurrent = group.get("1")
        shape = tuple(getattr(recurrent, "shape", ()))
        units = cell.description.hyper.get("units")
        if len(shape) < 2 or not shape[-2] or shape[-1] % shape[-2]:
            return False
        return not isinstance(units, int) or shape[-2] == units

    def why_missing(self, name: str, v3_path: str | None) -> str:
        parts = name.split("/")
        prefixes = ("/".join(parts[:k]) for k in range(1, len(parts) + 1))  # the layer, then its owners
        looked = next((self._looked[key] for key in prefixes if key in self._looked), None)
        if looked is None and v3_path is not None:
            looked = f"no tensors at {self.store.where(tuple(v3_path.split('/')))}"
        return f"layer {name}: {looked or 'not stored'}"


def _of_class(group: str, stem: str) -> bool:
    return group == stem or (group.startswith(stem + "_") and group[len(stem) + 1 :].isdigit())


def _suffix(group: str, stem: str) -> int:
    return 0 if group == stem else int(group[len(stem) + 1 :])


def numbered_tensors(group: h5py.Group, where: str) -> list[StoredTensor]:
    """Datasets named 0, 1, 2...: sorted numerically (h5py iterates "10" before "2")."""
    keys = list(group.keys())
    if not all(k.isdigit() for k in keys):
        raise CorruptFileError(f"{where} holds non-numbered entries {sorted(keys)[:5]}")
    return read_tensors(group, sorted(keys, key=int), where)


_SNAKE_TO_CLASS = {
    "lstm": "LSTM",
    "gru": "GRU",
    "simple_rnn": "SimpleRNN",
    "conv_lstm1d": "ConvLSTM1D",
    "conv_lstm2d": "ConvLSTM2D",
    "conv_lstm3d": "ConvLSTM3D",
    "lstm_cell": "LSTMCell",
    "gru_cell": "GRUCell",
    "simple_rnn_cell": "SimpleRNNCell",
}
_DIRECTIONS = {"forward_layer": "forward", "backward_layer": "backward"}
#: Top-level store entries that never hold layer weights (optimizer slots, metrics, the root).
SKIP_TOP = {"optimizer", "metrics", "vars"}


def _groups_without_config(store: V3Store, result: ReadResult) -> None:
    """Hand on every ``vars`` group that holds tensors, named after its store path."""
    top = set(store.children(()))
    if not top & {"layers", _ALT_LAYERS} and store.vars(()) is None:
        raise NotAModelError("HDF5 file without Keras weights (no layers/ or model_weights)")
    for comps in store.data_objects():
        if not comps or comps[0] in SKIP_TOP:
            continue
        where = store.where(comps)
        group = store.vars(comps)
        if group is None:
            continue
        weights = store_group(numbered_tensors(group, where), list(comps))
        weights.binding = Binding("shapes", where)
        result.groups.append(weights)


def store_group(tensors: list[StoredTensor], path: list[str]) -> WeightGroup:
    """The tensors of one ``vars`` group without config, named and hinted by the owner's store path
    (``["layers", "lstm", "cell"]``), as for an unsharded ``.weights.h5``. Shared with the sharded reader."""
    parts = [p for p in path if p not in ("layers", _ALT_LAYERS, "cell", "cells")]
    direction = next((_DIRECTIONS[p] for p in parts if p in _DIRECTIONS), None)
    name = "/".join(_DIRECTIONS.get(p, p) for p in parts) or "root"
    owner = parts[-2] if len(parts) > 1 and parts[-1] in _DIRECTIONS else (parts[-1] if parts else "")
    stem, _, counter = owner.rpartition("_")
    hinted = _SNAKE_TO_CLASS.get(owner) or (_SNAKE_TO_CLASS.get(stem) if counter.isdigit() else None)
    return WeightGroup(name, tensors, direction=direction, class_hint=hinted, hint_source="/".join(path))
