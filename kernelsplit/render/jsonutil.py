"""JSON helpers shared by every machine-readable output (inspect, export manifest, check, diff)."""

from __future__ import annotations

import math
from typing import Any

_MAX_DEPTH = 64


def jsonable(value: Any, depth: int = 0) -> Any:
    """Make a document strict JSON: tuples and numpy scalars become plain, NaN and Inf become null.

    Configs come from ``json.loads``, which accepts ``NaN``/``Infinity`` literals, so a hostile
    file could otherwise make every machine-readable output fail to encode.
    """
    if depth > _MAX_DEPTH:  # a hostile config nested thousands deep: keep the document encodable
        return "…"
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # NaN and +-Infinity are not JSON
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
