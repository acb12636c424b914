"""How file paths are shown in reports."""

from __future__ import annotations

import os


def display_path(path: str) -> str:
    """A path relative to the working folder when it is inside it, with forward slashes."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if os.path.commonpath([absolute, cwd]) == cwd:
        return os.path.relpath(absolute, cwd).replace(os.sep, "/")
    return absolute.replace(os.sep, "/")
