"""Where ``plot`` and ``diff --plot`` write: one named image file, or a folder of named images.

``-o FILE.png`` / ``-o FILE.svg`` takes exactly one figure (the format from the suffix); anything
else names a folder (created if needed) that gets ``<layer>-<figure>.<format>`` per figure, the
layer name made file-safe (``bidi/forward`` -> ``bidi_forward``; clashes get ``-2``, ``-3``...).
Each file is written beside its final name and renamed into place, so a failed run never leaves a
half-written image.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import OutputError, UsageError
from . import slug

IMAGE_FORMATS = ("png", "svg")


@dataclass
class Target:
    """A resolved ``-o``: a single file, or a folder with the names handed out so far."""

    path: Path
    single_file: bool
    fmt: str
    used: set[str] = field(default_factory=set)

    def check_count(self, figures: int) -> None:
        """A single file holds one figure: refuse before anything is drawn."""
        if self.single_file and figures != 1:
            raise UsageError(
                f"{self.path} is one image but this selection makes {figures} figures: "
                "name a folder with -o, or narrow it with --layer and --figure"
            )

    def name(self, layer: str, figure: str) -> Path:
        if self.single_file:
            return self.path
        stem = f"{slug(layer)}-{figure}"
        candidate, number = stem, 1
        while candidate.lower() in self.used:  # case-insensitive file systems too
            number += 1
            candidate = f"{stem}-{number}"
        self.used.add(candidate.lower())
        return self.path / f"{candidate}.{self.fmt}"


def resolve_target(output: str | None, default: str, image_format: str | None) -> Target:
    """``-o`` as given (or ``default``, a folder) and ``--image-format`` as a :class:`Target`."""
    if output is None:
        return Target(Path(default), False, image_format or "png")
    path = Path(output)
    suffix = path.suffix.lower().lstrip(".")
    if path.is_dir() or output.endswith(("/", os.sep)) or not suffix:
        return Target(path, False, image_format or "png")
    if suffix not in IMAGE_FORMATS:
        raise UsageError(f"cannot write .{suffix} images: name a .png or .svg file, or a folder (ending in /)")
    if image_format and image_format != suffix:
        raise UsageError(f"--image-format {image_format} contradicts the file name {output}")
    return Target(path, True, suffix)


def write_file(path: Path, content: bytes, what: str = "image") -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder, then rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.kernelsplit-tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            temporary.write_bytes(content)  # plain open(): the file gets the user's umask
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write the {what}: {exc.strerror or exc}", path=str(path)) from None
