"""Markdown helpers shared by check and diff (job summaries, design docs)."""

from __future__ import annotations

from .safe import terminal_text


def cell(text: object) -> str:
    """Text safe inside a markdown table cell (and free of control characters: render/safe.py)."""
    return terminal_text(str(text).replace("|", "\\|").replace("\n", " "))
