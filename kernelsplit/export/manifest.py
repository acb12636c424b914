"""``manifest.json``, schema ``kernelsplit.export-manifest/1`` (kernelsplit/schemas/export-manifest-1.json).

Deterministic: no timestamps, so the same export of the same file gives the same bytes.
Additive changes keep the version; renaming or removing a field bumps it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._version import __version__
from ..analysis.select import Selection
from ..jsonutil import jsonable
from ..model import Artifact
from .base import ExportedArray, ExportGroup, Refusal

SCHEMA = "kernelsplit.export-manifest/1"


@dataclass
class WrittenFile:
    path: str  # relative to the export folder, "/"-separated
    group: ExportGroup
    arrays: list[ExportedArray]
    container: bool
    size: int = 0
    sha256: str = ""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_digest(path: Path) -> tuple[str, str, int]:
    """(kind, sha256, size): a file's digest; for a folder, or the files of a TF checkpoint named
    by its prefix (``ckpt`` -> ``ckpt.index``, ``ckpt.data-*``), the digest of their sorted
    ``relative/path NUL file-sha256 LF`` lines (a tree digest)."""
    if path.is_file():
        return "file", file_sha256(path), path.stat().st_size
    if path.is_dir():
        return ("directory", *_tree_digest(path, sorted(p for p in path.rglob("*") if p.is_file())))
    members = sorted(p for p in path.parent.glob(f"{path.name}.*") if p.is_file())
    return ("checkpoint", *_tree_digest(path.parent, members))


def _tree_digest(root: Path, files: list[Path]) -> tuple[str, int]:
    lines, size = [], 0
    for child in files:
        lines.append(f"{child.relative_to(root).as_posix()}\0{file_sha256(child)}\n")
        size += child.stat().st_size
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest(), size


def build(
    artifact: Artifact,
    source: Path,
    layout: str,
    fmt: str,
    selection: Selection,
    groups: list[ExportGroup],
    files: list[WrittenFile],
    refused: list[Refusal],
    writer: Any,
    source_info: tuple[str, str, int],
    assume: str | None = None,
) -> dict[str, Any]:
    kind, digest, size = source_info
    arrays = []
    for written in files:
        for exported in written.arrays:
            arrays.append(
                {
                    "file": written.path,
                    "key": writer.key(exported, written.group.name) if written.container else None,
                    "group": written.group.name,
                    "layer": exported.layer,
                    "direction": exported.direction,
                    "part": exported.part,
                    "gate": exported.gate,
                    "gate_order": list(exported.gate_order) if exported.gate_order is not None else None,
                    "layout": layout,
                    "shape": list(exported.shape),
                    "dtype": exported.dtype,
                    "file_dtype": writer.file_dtype(exported),
                    "sha256": exported.sha256,
                    "zero_filled": exported.zero_filled,
                }
            )
    return {
        "schema": SCHEMA,
        "kernelsplit_version": __version__,
        "source": {
            "path": str(source),
            "name": source.name,
            "kind": kind,
            "sha256": digest,
            "size": size,
            "format": artifact.format,
            "keras_version": artifact.keras_version,
            "backend": artifact.backend,
        },
        "layout": layout,
        "format": fmt,
        "assumptions": {"activations": str(assume)} if assume is not None else None,
        "selection": {"layers": list(selection.layers), "gates": list(selection.gates), "parts": list(selection.parts)},
        "groups": [
            {
                "name": group.name,
                "cell": group.cell,
                "units": group.units,
                "layers": [
                    {
                        "name": layer.name,
                        "class_name": layer.class_name,
                        "direction": layer.direction,
                        "conversion": layer.conversion,
                        "inferred": layer.inferred,
                        "config": jsonable(layer.config),
                        "maths": layer.maths.as_dict(),
                    }
                    for layer in group.layers
                ],
                "target": jsonable(group.target),
                "notes": list(group.notes),
            }
            for group in groups
        ],
        "refused": [{"layer": r.layer, "reason": r.reason} for r in refused],
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files],
        "arrays": arrays,
    }


def dumps(manifest: dict[str, Any]) -> str:
    return json.dumps(jsonable(manifest), indent=2, allow_nan=False) + "\n"
