"""Markdown helpers shared by check and diff (job summaries, design docs)."""

from __future__ import annotations


def cell(text: object) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")
