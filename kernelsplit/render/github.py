"""GitHub Actions workflow commands (``::error file=...::message``), shared by check and diff."""

from __future__ import annotations

from .paths import display_path
from .safe import terminal_text


def escape_data(text: str) -> str:
    """Workflow-command data: ``%``, CR and LF encoded, every other control character shown escaped
    (GitHub's log viewer obeys ANSI sequences; render/safe.py)."""
    encoded = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return terminal_text(encoded)


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, path: str, title: str, message: str) -> str:
    return (
        f"::{level} file={escape_property(display_path(path))},title={escape_property(title)}::{escape_data(message)}"
    )
