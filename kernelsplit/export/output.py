"""Atomic output folders: everything is written into a hidden temp folder next to the target and
renamed into place only when complete, so an error midway leaves nothing that looks finished."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError, OutputExistsError

MANIFEST_NAME = "manifest.json"


def _is_previous_export(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and str(manifest.get("schema", "")).startswith("kernelsplit.export-manifest/")


def check_target(target: Path, force: bool) -> None:
    """Refuse to touch existing files without --force, and never replace a folder that is not ours."""
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise OutputExistsError(f"{target} exists and is not a folder")
    try:
        empty = not any(target.iterdir())
    except OSError as exc:
        raise OutputError(f"cannot read output folder {target}: {exc.strerror or exc}") from None
    if empty:
        return
    if not force:
        raise OutputExistsError(f"output folder {target} already exists (use --force to replace it, or -o DIR)")
    if not _is_previous_export(target):
        raise OutputExistsError(
            f"refusing to replace {target}: it is not a kernelsplit export (no {MANIFEST_NAME}); choose another -o DIR"
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def staged_folder(target: Path, force: bool) -> Iterator[Path]:
    """Yield a temp folder beside ``target``; on success it becomes ``target``, on error it vanishes."""
    check_target(target, force)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {target}: {exc.strerror or exc}") from None
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())
        _commit(staging, target, force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _commit(staging: Path, target: Path, force: bool) -> None:
    check_target(target, force)  # again: something may have appeared while we wrote
    try:
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "previous")
            try:
                os.replace(staging, target)
            except OSError:
                os.replace(old / "previous", target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as exc:
        raise OutputError(f"cannot move the export into {target}: {exc.strerror or exc}") from None
