"""JSON helpers shared by every machine-readable output (inspect, export manifest, check, diff)."""

from __future__ import annotations

from typing import Any


def jsonable(value: Any) -> Any:
    """Stored configs are JSON already, but tuples and numpy scalars can slip in: make them plain."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
