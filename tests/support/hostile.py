"""A deterministic corpus of hostile model files, crafted at test time with h5py, zipfile and json.

Each class of attack the README's threat model names has several variants. :func:`build` writes
them into a folder and returns one :class:`Hostile` per file: where it is, its class, and what
kernelsplit must say about it (an error code, or a readable artifact with some property). Nothing
here needs Keras: every file is a small real file of a known container kind, altered the way an
attacker would (docs/formats.md, "Hostile files").
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .paths import FIXTURES

K3_ZIP = FIXTURES / "keras3" / "seq_dedup.keras"
K3_WEIGHTS = FIXTURES / "keras3" / "seq_dedup.weights.h5"
TFK_H5 = FIXTURES / "rules" / "healthy.h5"  # LSTM enc, GRU dec: small, fast to render
KERAS_DIR = FIXTURES / "legacy" / "unzipped_keras"
KERAS0 = FIXTURES / "legacy" / "k0_lstm.h5"
SHARDED = FIXTURES / "legacy" / "sharded.weights.json"
SAVEDMODEL = FIXTURES / "savedmodel" / "k3_export"
CHECKPOINT = FIXTURES / "savedmodel" / "tfk_ckpt"

#: Characters a file must never get onto a terminal raw.
ESCAPES = ["\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\r\x1b[1A", "\u202e", "\x9b31m", "\x08\x08\x08"]
MARKUP = ["[bold]", "[/", "[/]", "[link=http://x]y[/link]", "[red on white]", "[[", "\\[bold]"]


@dataclass
class Hostile:
    name: str
    klass: str
    path: Path
    #: The error code every command must give, or None when the file is readable.
    code: str | None
    #: For readable files: a property of the ``inspect --format json`` record that must hold.
    check: Callable[[dict[str, Any]], bool] | None = field(default=None, repr=False)
    #: Text every human output must show escaped (never raw) when it shows it at all.
    needle: str | None = None
    #: Seconds of parsing on purpose (megabytes of JSON): run under fewer commands.
    heavy: bool = False
    #: ``check`` lists it as skipped (not a model: exit 0, the reason in the report) instead of failing.
    check_skips: bool = False


def _rezip(src: Path, dst: Path, replace: dict[str, bytes | None], extra: tuple[tuple[str, bytes], ...] = ()) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename in replace:
                data = replace[item.filename]
                if data is not None:
                    zout.writestr(item.filename, data)
            else:
                zout.writestr(item, zin.read(item.filename))
        for name, data in extra:
            zout.writestr(name, data)
    return dst


def _config(src: Path = K3_ZIP) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(zipfile.ZipFile(src).read("config.json"))
    return loaded


def _k3_layers(config: dict[str, Any]) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = config["config"]["layers"]
    return layers


def _first_lstm(config: dict[str, Any]) -> dict[str, Any]:
    return next(layer for layer in _k3_layers(config) if layer["class_name"] == "LSTM")


def _with_config(out: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    config = _config()
    edit(config)
    return _rezip(K3_ZIP, out / name, {"config.json": json.dumps(config).encode()})


def _legacy_copy(out: Path, name: str) -> Path:
    return Path(shutil.copy(TFK_H5, out / name))


def _rename_legacy_layer(path: Path, old: str, new: str) -> None:
    """Rename a top-level layer of a full-model .h5 everywhere it is named (config, layer_names, group)."""
    with h5py.File(path, "r+") as h5:
        config = json.loads(h5.attrs["model_config"])
        for layer in config["config"]["layers"]:
            if layer["config"]["name"] == old:
                layer["config"]["name"] = new
        h5.attrs["model_config"] = json.dumps(config)
        weights = h5["model_weights"]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in weights.attrs["layer_names"]]
        weights.attrs["layer_names"] = np.array([(new if n == old else n).encode("utf-8") for n in names])
        weights.move(old, new)


# ------------------------------------------------------------------------------------------ hangs


def hangs(out: Path) -> list[Hostile]:
    found = []
    fifo = out / "pipe.keras"
    os.mkfifo(fifo)
    found.append(Hostile("fifo given", "hang", fifo, "not-a-model", needle="FIFO", check_skips=True))
    for member in ("model.weights.h5", "config.json", "metadata.json"):
        folder = out / f"dir_fifo_{member.split('.')[0]}"
        shutil.copytree(KERAS_DIR, folder)
        (folder / member).unlink()
        os.mkfifo(folder / member)
        found.append(Hostile(f"unzipped .keras, {member} a FIFO", "hang", folder, "unsafe"))
    shards = out / "shards"
    shards.mkdir()
    shutil.copy(SHARDED, shards / SHARDED.name)
    names = sorted(p.name for p in SHARDED.parent.glob("sharded_*.weights.h5"))
    shutil.copy(SHARDED.parent / names[0], shards / names[0])
    os.mkfifo(shards / names[1])
    found.append(Hostile("sharded index, a shard a FIFO", "hang", shards / SHARDED.name, "unsafe"))
    return found


# ------------------------------------------------------------------------------ memory and budget


def memory(out: Path) -> list[Hostile]:
    found = []
    for label, nb_layers, nb_params in (("nb_params 10**12", None, 10**12), ("nb_layers 10**9", 10**9, None)):
        path = Path(shutil.copy(KERAS0, out / f"k0_{label.split()[0]}.h5"))
        with h5py.File(path, "r+") as h5:
            if nb_layers is not None:
                h5.attrs["nb_layers"] = nb_layers
            if nb_params is not None:
                h5["layer_0"].attrs["nb_params"] = nb_params
        found.append(Hostile(f"Keras 0.x {label}", "memory", path, "corrupt"))
    # A zip member declaring 6 GB at a ratio of 98 (under the ratio check): the header is forged.
    bomb = _rezip(K3_ZIP, out / "ratio_bomb.keras", {})
    _forge_member_sizes(bomb, "model.weights.h5", file_size=6 << 30, compress_size=(6 << 30) // 98)
    found.append(Hostile("zip member 6 GB at ratio 98", "memory", bomb, "unsafe"))
    # A sparse file: a small HDF5 extended by a hole to 8 GiB, declaring a 25.6 GB kernel.
    sparse = out / "sparse.weights.h5"
    shutil.copy(K3_WEIGHTS, sparse)
    with h5py.File(sparse, "r+") as h5:
        del h5["layers/lstm/cell/vars/0"]
        h5.create_dataset("layers/lstm/cell/vars/0", shape=(80_000, 80_000), dtype="f4", chunks=(1000, 1000))
    with open(sparse, "r+b") as handle:
        handle.truncate(8 << 30)
    found.append(Hostile("sparse file (hole to 8 GiB), 25.6 GB declared", "memory", sparse, "unsafe"))
    # gzip-compressed zeros far past the budget of the few KB they occupy
    gz = Path(shutil.copy(K3_WEIGHTS, out / "gzip.weights.h5"))
    with h5py.File(gz, "r+") as h5:
        del h5["layers/lstm/cell/vars/0"]
        h5.create_dataset(
            "layers/lstm/cell/vars/0", shape=(20_000, 20_000), dtype="f4", chunks=(2000, 2000), compression="gzip"
        )
    found.append(Hostile("gzip zeros, 1.6 GB declared", "memory", gz, "unsafe"))
    return found


def _forge_member_sizes(path: Path, member: str, file_size: int, compress_size: int) -> None:
    """Rewrite a member's sizes in the central directory (zip64 not needed below 4 GiB; above, the
    32-bit fields hold 0xFFFFFFFF and a zip64 extra carries the truth: here the declared sizes)."""
    data = bytearray(path.read_bytes())
    start = data.rfind(b"PK\x01\x02", 0)
    while start != -1:
        (name_len,) = struct.unpack_from("<H", data, start + 28)
        name = bytes(data[start + 46 : start + 46 + name_len]).decode()
        if name == member:
            struct.pack_into("<II", data, start + 20, min(compress_size, 0xFFFFFFFE), min(file_size, 0xFFFFFFFE))
            break
        start = data.rfind(b"PK\x01\x02", 0, start)
    path.write_bytes(bytes(data))


# --------------------------------------------------------------------------- terminal and markup


def injection(out: Path) -> list[Hostile]:
    found = []
    for index, text in enumerate(ESCAPES + MARKUP):
        klass = "terminal" if index < len(ESCAPES) else "markup"
        name = f"lstm{text}x"
        path = _legacy_copy(out, f"inject_{index}.h5")
        _rename_legacy_layer(path, "enc", name)
        found.append(
            Hostile(
                f"legacy layer named {text!r}",
                klass,
                path,
                None,
                check=lambda r, name=name: any(layer["name"] == name for layer in r["layers"]),
                needle=text,
            )
        )

        def rename(config: dict[str, Any], text: str = text) -> None:
            _first_lstm(config)["config"]["name"] = f"k3{text}"

        k3 = _with_config(out, f"inject_{index}.keras", rename)
        found.append(Hostile(f".keras layer named {text!r}", klass, k3, None, needle=text))
    version = _legacy_copy(out, "inject_version.h5")
    with h5py.File(version, "r+") as h5:
        h5.attrs["keras_version"] = "2.21.0\x1b[31m[bold]"
    found.append(Hostile("keras_version with escapes and markup", "terminal", version, None, needle="\x1b[31m"))
    named = out / "file\x1b[31mname[bold].h5"
    shutil.copy(TFK_H5, named)
    found.append(Hostile("file name with escapes", "terminal", named, None, needle="\x1b[31m"))
    broken = out / "broken\x1b]0;x\x07.h5"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    found.append(Hostile("damaged file named with escapes", "terminal", broken, "corrupt", needle="\x1b]0;"))
    return found


# ------------------------------------------------------------------------------------------ noise


def noise(out: Path) -> list[Hostile]:
    found = []
    for label, values in (
        ("signalling NaN", lambda shape: np.full(shape, 0x7F800001, np.uint32).view(np.float32)),
        ("float64 extremes", lambda shape: np.where(np.indices(shape).sum(0) % 2, 1.7e308, -1.7e308)),
        ("subnormal float64", lambda shape: np.full(shape, 5e-324)),
    ):
        path = Path(shutil.copy(K3_WEIGHTS, out / f"noise_{label.split()[0]}.weights.h5"))
        with h5py.File(path, "r+") as h5:
            for var in ("0", "1"):
                shape = h5[f"layers/lstm/cell/vars/{var}"].shape
                del h5[f"layers/lstm/cell/vars/{var}"]
                h5[f"layers/lstm/cell/vars/{var}"] = values(shape)
        found.append(Hostile(label, "noise", path, None))
    return found


# ------------------------------------------------------------------------------ unbounded work


def work(out: Path) -> list[Hostile]:
    found = []
    million = out / "layer_names_million.h5"
    with h5py.File(million, "w", libver="latest") as h5:
        h5.attrs["layer_names"] = np.array([b"lstm"] * 1_000_000)
        group = h5.create_group("lstm")
        group.attrs["weight_names"] = np.array([b"k", b"r", b"b"])
        group["k"] = np.zeros((3, 16), "f4")
        group["r"] = np.zeros((4, 16), "f4")
        group["b"] = np.zeros(16, "f4")
    found.append(Hostile("layer_names lists one group 1,000,000 times", "work", million, "too-large", heavy=True))
    repeated = out / "layer_names_repeated.h5"
    shutil.copy(million, repeated)
    with h5py.File(repeated, "r+") as h5:
        h5.attrs["layer_names"] = np.array([b"lstm"] * 50_000)
    found.append(Hostile("layer_names lists one group 50,000 times", "work", repeated, "ambiguous"))

    def many(count: int, same_name: bool) -> Callable[[dict[str, Any]], None]:
        def edit(config: dict[str, Any]) -> None:
            layers = _k3_layers(config)
            copies = [
                {"class_name": "LSTM", "config": {"name": "lstm" if same_name else f"lstm_x{k}", "units": 4}}
                for k in range(count)
            ]
            layers[:] = [*layers[:1], *copies]

        return edit

    for label, file, count, same, expected in (
        ("200,000 layers with one name", "cfg200k.keras", 200_000, True, "too-large"),
        ("5,000 layers with one name", "cfg5k.keras", 5_000, True, "ambiguous"),
        ("5,000 LSTMs without weights", "cfg5k_distinct.keras", 5_000, False, "incomplete"),
    ):
        found.append(Hostile(label, "work", _with_config(out, file, many(count, same)), expected, heavy=count > 10_000))

    deep = _legacy_copy(out, "deep_nesting.h5")
    with h5py.File(deep, "r+") as h5:
        config = json.loads(h5.attrs["model_config"])
        inner: dict[str, Any] = {"class_name": "Dense", "config": {"name": "leaf", "units": 1}}
        for k in range(200):
            inner = {"class_name": "Sequential", "config": {"name": f"s{k}", "layers": [inner]}}
        config["config"]["layers"].append(inner)
        h5.attrs["model_config"] = json.dumps(config)
    found.append(Hostile("models nested 200 deep", "work", deep, "too-large"))
    return found


# -------------------------------------------------------------------------------- detection gaps


def code(out: Path) -> list[Hostile]:
    found = []
    nested = {
        "activation": {
            "class_name": "__lambda__",
            "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None},
        },
        "kernel_initializer": {"module": "builtins", "class_name": "exec", "config": {}, "registered_name": "exec"},
        "recurrent_constraint": {"module": "os", "class_name": "system", "config": {}, "registered_name": "system"},
        "bias_constraint": {"class_name": "os>system", "config": {}},
    }
    for key, value in nested.items():

        def edit(config: dict[str, Any], key: str = key, value: Any = value) -> None:
            _first_lstm(config)["config"][key] = value

        path = _with_config(out, f"code_{key}.keras", edit)
        found.append(
            Hostile(
                f"code in {key}",
                "code",
                path,
                None,
                check=lambda r, key=key: any(f": {key} (" in e for e in r["executable_layers"]),
            )
        )
    for member, data in (
        ("assets/loader.py", b"import os\nos.system('echo pwned')\n"),
        ("assets/state.pkl", b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01x\x94."),
        ("assets/blob.bin", b"\x80\x05\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01x\x94."),
    ):
        path = _rezip(K3_ZIP, out / f"member_{member.rsplit('/', 1)[-1]}.keras", {}, ((member, data),))
        found.append(
            Hostile(
                f".keras with member {member}",
                "code",
                path,
                None,
                check=lambda r, member=member: any(e.startswith(member) for e in r["executable_layers"]),
            )
        )
    # The same model told two ways: two readers would see different models.
    text = zipfile.ZipFile(K3_ZIP).read("config.json").decode()
    dup_key = text.replace('"class_name": "Sequential"', '"class_name": "Functional", "class_name": "Sequential"', 1)
    if dup_key == text:
        dup_key = text[:-1] + ', "class_name": "X"}'
    dup_path = _rezip(K3_ZIP, out / "dupkey.keras", {"config.json": dup_key.encode()})
    found.append(Hostile("duplicate key in config.json", "ambiguous", dup_path, "ambiguous"))
    twice = out / "dupmember.keras"  # zipfile warns about the duplicate it is asked to write
    warnings.filterwarnings("ignore", "Duplicate name", UserWarning)
    _rezip(K3_ZIP, twice, {}, (("config.json", b'{"class_name": "Sequential", "config": {"layers": []}}'),))
    found.append(Hostile("config.json stored twice", "ambiguous", twice, "ambiguous"))
    legacy = _legacy_copy(out, "dupkey.h5")
    with h5py.File(legacy, "r+") as h5:
        config = h5.attrs["model_config"]
        config = config.decode() if isinstance(config, bytes) else config
        h5.attrs["model_config"] = '{"class_name": "Sequential", ' + config[1:]
    found.append(Hostile("duplicate key in model_config", "ambiguous", legacy, "ambiguous"))
    return found


# ----------------------------------------------------------------------------------- rough edges


def rough(out: Path) -> list[Hostile]:
    found = []

    def rename(name: str) -> Callable[[dict[str, Any]], None]:
        return lambda config: _first_lstm(config)["config"].__setitem__("name", name)

    long_name = "L" * 70_000
    found.append(
        Hostile(
            "70,000-character layer name",
            "rough",
            _with_config(out, "long_name.keras", rename(long_name)),
            None,
            check=lambda r: any(layer["name"] == long_name for layer in r["layers"]),
        )
    )
    deep_name = _with_config(out, "deep_name.keras", rename("a/" * 3000 + "b"))
    found.append(Hostile("layer name 3,000 levels deep", "rough", deep_name, None))
    empty_attr = _legacy_copy(out, "tuple_index.h5")
    with h5py.File(empty_attr, "r+") as h5:
        group = h5["model_weights/enc"]
        first = group.attrs["weight_names"][0]
        first = first.decode() if isinstance(first, bytes) else first
        del group[first]
        group.create_dataset(first, shape=(), dtype="f4")
    found.append(Hostile("scalar kernel", "rough", empty_attr, "corrupt"))
    return found


CLASSES: dict[str, Callable[[Path], list[Hostile]]] = {
    "hang": hangs,
    "memory": memory,
    "injection": injection,
    "noise": noise,
    "work": work,
    "code": code,
    "rough": rough,
}


def build(out: Path) -> list[Hostile]:
    """Every hostile file, written under ``out`` (deterministic: no randomness, no clock)."""
    found: list[Hostile] = []
    for name, make in CLASSES.items():
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        found += make(folder)
    return found
