"""kernelsplit: read saved Keras models without TensorFlow and split recurrent kernels into gates.

>>> import kernelsplit
>>> artifact = kernelsplit.open("model.h5")            # doctest: +SKIP
>>> layer = artifact.layers[0]                         # doctest: +SKIP
>>> layer.tensor("kernel", "f").array                  # the forget gate's W_f  # doctest: +SKIP
"""

from __future__ import annotations

from ._version import __version__
from .api import open_artifact as open
from .api import try_open
from .errors import KernelsplitError
from .layouts import LAYOUTS
from .model import Artifact, GateTensor, RecurrentLayer

__all__ = [
           "LAYOUTS",
           "Artifact",
           "GateTensor",
           "KernelsplitError",
           "RecurrentLayer",
           "__version__",
           "open",
           "try_open",
]
