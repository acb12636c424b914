"""``kernelsplit export`` as a library: selected layers -> a layout's arrays -> files + manifest.

>>> from kernelsplit.export import export
>>> result = export("model.h5", layout="pytorch", fmt="safetensors", out="model-pytorch")  # doctest: +SKIP

Layouts (``keras``, ``pytorch``, ``onnx``) and writers (``npy``, ``npz``, ``csv``, ``json``,
``safetensors``, ``c``) are registries of small classes; see base.Layout and writers.Writer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.assume import Assumption
from ..analysis.assume import assume as assume_maths
from ..analysis.select import Selection
from ..errors import (
    ExportRefusedError,
    NotFoundError,
    NothingToExportError,
    OutputError,
    OutputExistsError,
    UsageError,
)
from ..model import Artifact, GateTensor, RecurrentLayer
from . import manifest as manifest_mod
from .base import ExportedArray, ExportGroup, Layout, Refusal, WriteContext
from .keras import KerasLayout
from .onnx import OnnxLayout
from .output import MANIFEST_NAME, staged_folder
from .pytorch import PyTorchLayout
from .writers import WRITERS, Writer

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "ExportRefusedError",
    "ExportResult",
    "ExportedArray",
    "NothingToExportError",
    "OutputError",
    "OutputExistsError",
    "default_output",
    "export",
    "export_artifact",
    "plan",
]

LAYOUTS: dict[str, Layout] = {lay.name: lay for lay in (KerasLayout(), PyTorchLayout(), OnnxLayout())}
FORMATS: dict[str, Writer] = WRITERS


@dataclass
class ExportResult:
    output: Path
    manifest: dict[str, Any]
    groups: list[ExportGroup]
    refused: list[Refusal] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return [f["path"] for f in self.manifest["files"]]


def default_output(source: str | os.PathLike[str], layout: str, fmt: str) -> Path:
    """``model.h5`` -> ``./model-keras-npy`` (in the current folder; the suffix names layout and format)."""
    path = Path(source)
    name = path.name or path.resolve().name
    stem = Path(name).stem if path.suffix and not path.is_dir() else name
    return Path(f"{stem or 'export'}-{layout}-{fmt}")


def _choose(artifact: Artifact, layout: str, selection: Selection) -> list[tuple[RecurrentLayer, list[GateTensor]]]:
    if not artifact.layers:
        raise NothingToExportError("no recurrent layers in this file: nothing to export")
    if layout != "keras" and (selection.gates or selection.parts):
        raise UsageError(
            f"--gate/--part pick single gate blocks, which only --layout keras writes; "
            f"--layout {layout} exports whole layers (filter them with --layer)"
        )
    named = [layer for layer in artifact.layers if selection.names_layer(layer)]
    if not named:
        raise NothingToExportError(selection.explain_empty(artifact.layers))
    selection.check_gates_fit(named)
    if layout != "keras":
        return [(layer, list(layer.tensors)) for layer in named]
    chosen = selection.apply(artifact)
    if not chosen:
        raise NothingToExportError(selection.explain_empty(artifact.layers))
    return chosen


def plan(
    artifact: Artifact,
    *,
    layout: str = "keras",
    selection: Selection | None = None,
    skip_unsupported: bool = False,
    assume: Assumption | str | None = None,
) -> tuple[list[ExportGroup], list[Refusal]]:
    """The groups ``layout`` makes from the selected layers; refusals raise unless skipped.

    ``assume`` fills in maths a weights-only file does not store (see ``analysis.assume``);
    without it such layers are refused by the pytorch and onnx layouts.
    """
    selection = selection or Selection()
    selection.validate()
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; layouts are {', '.join(LAYOUTS)}")
    chosen = _choose(artifact, layout, selection)
    if assume is not None:
        chosen = _assumed(chosen, assume)
    groups, refused = LAYOUTS[layout].groups(chosen)
    if refused and (not skip_unsupported or not groups):
        reasons = "; ".join(f"{r.layer}: {r.reason}" for r in refused)
        hint = " (pick the others with --layer, or pass --skip-unsupported)" if groups else ""
        raise ExportRefusedError(f"cannot export to {layout} layout: {reasons}{hint}")
    return groups, refused


def _assumed(
    chosen: list[tuple[RecurrentLayer, list[GateTensor]]], choice: Assumption | str
) -> list[tuple[RecurrentLayer, list[GateTensor]]]:
    try:
        choice = Assumption(choice)
    except ValueError:
        raise UsageError(f"unknown assumption {choice!r}; choose {', '.join(a.value for a in Assumption)}") from None
    return [(assume_maths(layer, choice), tensors) for layer, tensors in chosen]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: File names come from layer names, which a file controls: at most this many folder levels and
#: characters per component (longer ones keep a prefix and a digest), so no name is too long for
#: the filesystem and no tree is too deep to write or delete.
_MAX_DEPTH = 4
_MAX_COMPONENT = 80


def _safe(name: str) -> str:
    parts = []
    for component in name.split("/"):
        clean = _UNSAFE.sub("_", component).strip(".") or "_"
        parts.append(clean)
    if len(parts) > _MAX_DEPTH:
        parts = [*parts[: _MAX_DEPTH - 1], "_".join(parts[_MAX_DEPTH - 1 :])]
    return "/".join(_short(part) for part in parts)


def _short(component: str) -> str:
    if len(component) <= _MAX_COMPONENT:
        return component
    import hashlib

    digest = hashlib.sha256(component.encode("utf-8")).hexdigest()[:12]
    return f"{component[: _MAX_COMPONENT - 13]}~{digest}"


def _file_plan(groups: list[ExportGroup], writer: Writer) -> list[manifest_mod.WrittenFile]:
    used = {MANIFEST_NAME.lower()}
    counters: dict[str, int] = {}
    planned = []

    def unique(stem: str) -> str:
        candidate, n = f"{stem}{writer.extension}", counters.get(stem.lower(), 1)
        while candidate.lower() in used:  # a per-stem counter: linear however many names repeat
            n += 1
            candidate = f"{stem}~{n}{writer.extension}"
        counters[stem.lower()] = n
        used.add(candidate.lower())
        return candidate

    for group in groups:
        if writer.container:
            planned.append(manifest_mod.WrittenFile(unique(_safe(group.name)), group, group.arrays, True))
        else:
            for exported in group.arrays:
                path = unique(f"{_safe(group.name)}/{_safe(exported.name)}")
                planned.append(manifest_mod.WrittenFile(path, group, [exported], False))
    return planned


def export_artifact(
    artifact: Artifact,
    *,
    out: str | os.PathLike[str] | None = None,
    layout: str = "keras",
    fmt: str = "npy",
    selection: Selection | None = None,
    force: bool = False,
    skip_unsupported: bool = False,
    assume: Assumption | str | None = None,
) -> ExportResult:
    """Write the selected layers of an opened artifact. Raises KernelsplitError subclasses only."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
    selection = selection or Selection()
    writer = FORMATS[fmt]
    groups, refused = plan(
        artifact, layout=layout, selection=selection, skip_unsupported=skip_unsupported, assume=assume
    )
    for group in groups:
        for exported in group.arrays:
            writer.check(exported)
    target = Path(out) if out is not None else default_output(artifact.path, layout, fmt)
    files = _file_plan(groups, writer)
    source = Path(artifact.path)
    try:
        source_info = manifest_mod.source_digest(source)
    except OSError as exc:
        raise NotFoundError(f"cannot read the source again to record its digest: {exc.strerror or exc}") from None
    with staged_folder(target, force) as staging:
        try:
            for written in files:
                path = staging / written.path
                path.parent.mkdir(parents=True, exist_ok=True)
                context = WriteContext(written.group, layout, source.name or str(source), source_info[1])
                writer.write(path, written.arrays, context)
                written.size = path.stat().st_size
                written.sha256 = manifest_mod.file_sha256(path)
            document = manifest_mod.build(
                artifact, source, layout, fmt, selection, groups, files, refused, writer, source_info, assume
            )
            (staging / MANIFEST_NAME).write_text(manifest_mod.dumps(document), encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write to output folder {target}: {exc.strerror or exc}") from None
    return ExportResult(output=target, manifest=document, groups=groups, refused=refused)


def export(
    source: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    layout: str = "keras",
    fmt: str = "npy",
    selection: Selection | None = None,
    force: bool = False,
    skip_unsupported: bool = False,
    assume: Assumption | str | None = None,
) -> ExportResult:
    """Open ``source`` with kernelsplit and export it (the arguments are those of :func:`export_artifact`)."""
    from ..api import open_artifact

    return export_artifact(
        open_artifact(source),
        out=out,
        layout=layout,
        fmt=fmt,
        selection=selection,
        force=force,
        skip_unsupported=skip_unsupported,
        assume=assume,
    )
