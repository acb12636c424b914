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

from ._version import __version__ as __version__

if TYPE_CHECKING:  # what type checkers see; at run time _LAZY imports each name on first use
    from . import forward as forward
    from .analysis.select import Selection as Selection
    from .api import open_artifact as open  # noqa: F401 - public as kernelsplit.open
    from .api import try_open as try_open
    from .batch.steps import check_record as check_record
    from .batch.steps import inspect_record as inspect_record
    from .errors import KernelsplitError as KernelsplitError
    from .layouts import CELL_LAYOUTS as CELL_LAYOUTS
    from .model import Artifact as Artifact
    from .model import CellKind as CellKind
    from .model import CellMaths as CellMaths
    from .model import Direction as Direction
    from .model import Fact as Fact
    from .model import Failure as Failure
    from .model import GateTensor as GateTensor
    from .model import Origin as Origin
    from .model import Part as Part
    from .model import RecurrentLayer as RecurrentLayer
    from .model import TensorStats as TensorStats
    from .render.explain import render as explain  # noqa: F401 - public as kernelsplit.explain

_MODEL_NAMES = (
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
#: public name -> (module, attribute), imported on first use.
_LAZY = {
    "open": ("api", "open_artifact"),
    "try_open": ("api", "try_open"),
    "inspect_record": ("batch.steps", "inspect_record"),
    "check_record": ("batch.steps", "check_record"),
    "KernelsplitError": ("errors", "KernelsplitError"),
    "CELL_LAYOUTS": ("layouts", "CELL_LAYOUTS"),
    "Selection": ("analysis.select", "Selection"),
    "explain": ("render.explain", "render"),
    **{name: ("model", name) for name in _MODEL_NAMES},
}

#: Modules reachable as attributes (``kernelsplit.forward.bidirectional``), imported on first use.
_SUBMODULES = ("forward",)

__all__ = sorted([*_LAZY, *_SUBMODULES, "__version__"])


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})


if not TYPE_CHECKING:  # type checkers see the imports above, so a typo stays an error for them

    def __getattr__(name: str) -> Any:
        if name not in _LAZY and name not in _SUBMODULES:
            raise AttributeError(f"module 'kernelsplit' has no attribute {name!r}")
        if name in _SUBMODULES:
            value = import_module(f".{name}", __name__)
            globals()[name] = value
            return value
        module, attribute = _LAZY[name]
        value = getattr(import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
