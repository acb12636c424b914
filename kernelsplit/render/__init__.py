"""Renderers: one sub-package per command (inspect, check, diff), one module per output format.

Each command's package holds its reporter base class and its registry (format name -> reporter,
imported only when used); the command line takes its ``--format`` choices from that registry.
Helpers shared by several formats live here: ``console`` (rich consoles), ``paths``,
``github`` (workflow-command escaping) and ``markdown`` (table cells).
"""

from __future__ import annotations

import importlib
from typing import Any


def load(registry: dict[str, str], package: str, name: str) -> Any:
    """The reporter class ``registry[name]`` (``"module:Class"`` inside ``package``), imported now.

    An unknown ``name`` (a library caller's typo: the CLI offers only the registry's names) is a
    usage error listing the formats there are.
    """
    if name not in registry:
        from ..errors import UsageError

        raise UsageError(f"unknown output format {name!r}: choose from {', '.join(registry)}")
    module, cls = registry[name].split(":")
    return getattr(importlib.import_module(f"{package}.{module}"), cls)
