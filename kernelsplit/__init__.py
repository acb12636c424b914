"""kernelsplit: read saved Keras models without TensorFlow and split recurrent kernels into gates.

>>> import kernelsplit
>>> artifact = kernelsplit.open("model.h5")            # doctest: +SKIP
>>> layer = artifact.layers[0]                         # doctest: +SKIP
>>> layer.tensor("kernel", "f").array                  # the forget gate's W_f  # doctest: +SKIP

The public names are loaded on first use, so ``kernelsplit --help`` and the CLI's start-up do
not pay for numpy until a command needs it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .analysis.select import Selection
    from .api import open_artifact as open
    from .api import try_open
    from .errors import KernelsplitError
    from .layouts import CELL_LAYOUTS
    from .model import (
        Artifact,
        CellKind,
        CellMaths,
        Direction,
        Fact,
        Failure,
        GateTensor,
        Origin,
        Part,
        RecurrentLayer,
        TensorStats,
    )

_LAZY = {
    "open": ("api", "open_artifact"),
    "try_open": ("api", "try_open"),
    "KernelsplitError": ("errors", "KernelsplitError"),
    "CELL_LAYOUTS": ("layouts", "CELL_LAYOUTS"),
    "Selection": ("analysis.select", "Selection"),
    **{
        name: ("model", name)
        for name in (
            "Artifact",
            "CellKind",
            "CellMaths",
            "Direction",
            "Fact",
            "Failure",
            "GateTensor",
            "Origin",
            "Part",
            "RecurrentLayer",
            "TensorStats",
        )
    },
}

__all__ = [
    "CELL_LAYOUTS",
    "Artifact",
    "CellKind",
    "CellMaths",
    "Direction",
    "Fact",
    "Failure",
    "GateTensor",
    "KernelsplitError",
    "Origin",
    "Part",
    "RecurrentLayer",
    "Selection",
    "TensorStats",
    "__version__",
    "open",
    "try_open",
]


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})


if not TYPE_CHECKING:  # type checkers see the imports above, so a typo stays an error for them

    def __getattr__(name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module 'kernelsplit' has no attribute {name!r}")
        module, attribute = _LAZY[name]
        value = getattr(import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
