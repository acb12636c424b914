"""Pictures of gate blocks: heatmaps, distributions, spectra and diffs (``plot``, ``report``, ``diff --plot``).

``data`` computes what is drawn with numpy alone (pooled grids, histograms, spectra, sparklines);
``figures`` draws it with matplotlib's object API on the Agg canvas (never pyplot, no GUI
backend); ``output`` decides file names. matplotlib is the optional extra ``kernelsplit[plot]``
and is imported only when a figure is drawn: ``require_matplotlib`` says how to install it.
"""

from __future__ import annotations

import re
import unicodedata

from ...errors import MissingDependencyError

INSTALL_HINT = "pip install 'kernelsplit[plot]'"


def require_matplotlib() -> None:
    """Raise :class:`MissingDependencyError` (exit 2) with the install command when matplotlib is absent."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependencyError(f"pictures need matplotlib, which is not installed: {INSTALL_HINT}") from None


_UNPRINTABLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def printable(text: object, limit: int = 120) -> str:
    """File-controlled text made safe to draw or print: control, format and unassigned characters
    become ``\\xNN``/``\\uNNNN`` escapes, and long text is cut with an ellipsis."""
    out = []
    for char in str(text):
        if unicodedata.category(char) in _UNPRINTABLE_CATEGORIES:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    result = "".join(out)
    return result if len(result) <= limit else result[: limit - 1] + "…"


def slug(text: str, limit: int = 80) -> str:
    """A file-name-safe form of a layer name: ``bidi/forward`` -> ``bidi_forward``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "layer"
    return cleaned[:limit]
