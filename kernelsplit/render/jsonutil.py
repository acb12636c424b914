"""JSON helpers shared by every machine-readable output (inspect, export manifest, check, diff)."""

from __future__ import annotations

import math
from typing import Any


def jsonable(value: Any) -> Any:
    """Make a document strict JSON: tuples and numpy scalars become plain, NaN and Inf become null.

    Configs come from ``json.loads``, which accepts ``NaN``/``Infinity`` literals, so a hostile
    file could otherwise make every machine-readable output fail to encode.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # NaN and +-Infinity are not JSON
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
