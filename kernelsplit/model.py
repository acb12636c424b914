"""The one typed model every reader's output becomes and every renderer, exporter and rule consumes.

Artifact -> RecurrentLayer (one per cell and per Bidirectional direction) -> GateTensor (one per
(part, gate) block). Arrays are read on demand from the stored tensor, in the stored dtype, never
re-computed, so a block's sha256 identifies the stored bytes. A layer also carries its maths
(:class:`CellMaths`): what it computes, and where each fact came from.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import numpy as np

from ._compat import StrEnum
from .errors import Failure as Failure  # part of the model's vocabulary
from .errors import UnknownBlockError
from .layouts import CELL_LAYOUTS, CellLayout
from .maths import Writer, resolve
from .tensordata import Block
from .tensordata import TensorStats as TensorStats  # part of the model's vocabulary

if TYPE_CHECKING:
    from .equations import Convolution
    from .forward import ForwardResult


class CellKind(StrEnum):
    """The four gate layouts kernelsplit knows (``layouts.CELL_LAYOUTS`` holds their gate tables)."""

    LSTM = "lstm"
    GRU = "gru"
    SIMPLE_RNN = "simple_rnn"
    CONV_LSTM = "conv_lstm"


class Direction(StrEnum):
    """The slot of a Bidirectional wrapper a layer fills."""

    FORWARD = "forward"
    BACKWARD = "backward"


class Part(StrEnum):
    KERNEL = "kernel"
    RECURRENT_KERNEL = "recurrent_kernel"
    BIAS = "bias"
    #: GRU ``reset_after`` row 1, or the recurrent-side half of a CuDNN bias.
    RECURRENT_BIAS = "recurrent_bias"


class Storage(StrEnum):
    """How the file lays the gates out; everything is reported in the canonical Keras 2/3 layout."""

    #: Keras 2/3, tf.keras: one fused tensor per part, gate blocks side by side on the last axis.
    FUSED = "fused"
    #: Keras 0.x/1.x: one (W, U, b) triple per gate, stored in ``CellLayout.keras1_storage_order``.
    KERAS1 = "keras1"
    #: CuDNNLSTM/CuDNNGRU: cuDNN's block layout and a bias of two halves (input side, recurrent side).
    CUDNN = "cudnn"


class BiasLayout(StrEnum):
    NONE = "none"  #: ``use_bias=False``
    SINGLE = "single"  #: (G·u,)
    PAIR = "pair"  #: (2, G·u): GRU ``reset_after=True``, row 0 input side, row 1 recurrent side
    HALVES = "halves"  #: (2·G·u,): CuDNN, input-side half then recurrent-side half
    PER_GATE = "per-gate"  #: Keras 0.x/1.x: one b_g per gate


class ArtifactFormat(StrEnum):
    """The container a file was read as (JSON ``format``)."""

    KERAS_ZIP = "keras-zip"
    KERAS_DIR = "keras-dir"
    KERAS3_WEIGHTS_H5 = "keras3-weights-h5"
    KERAS3_SHARDED = "keras3-sharded-weights"
    H5_FULL = "h5-full"
    H5_WEIGHTS = "h5-weights"
    H5_KERAS0 = "h5-keras0"
    SAVEDMODEL = "savedmodel"
    TF_CHECKPOINT = "tf-checkpoint"


class Origin(StrEnum):
    """Where a fact about a layer's maths came from."""

    #: The file's stored config says so.
    CONFIG = "config"
    #: The layer class computes one fixed function whatever the config says (CuDNN kernels).
    CLASS = "class"
    #: Read off the stored tensors (a bias is stored, so ``use_bias`` is true).
    STORED = "stored"
    #: Not stored; the default of the Keras generation that wrote the file.
    GENERATION_DEFAULT = "generation-default"
    #: Not stored and not knowable from the file: chosen by the user.
    ASSUMED = "assumed"


T = TypeVar("T")


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One maths setting and its origin; ``value`` None (and ``origin`` None) when unknown."""

    value: T | None = None
    origin: Origin | None = None

    @property
    def known(self) -> bool:
        return self.origin is not None


UNKNOWN: Fact[Any] = Fact()


@dataclass(frozen=True)
class CellMaths:
    """What the layer computes, beyond its weights: every value with where it came from.

    Activation names are resolved by the generation that wrote the file (``writer``):
    ``kernelsplit.maths.resolve(name, maths.writer)``.
    """

    activation: Fact[str] = UNKNOWN
    recurrent_activation: Fact[str] = UNKNOWN
    use_bias: Fact[bool] = UNKNOWN
    reset_after: Fact[bool] = UNKNOWN
    go_backwards: Fact[bool] = UNKNOWN
    #: The Bidirectional wrapper's ``merge_mode`` (for a direction of a Bidirectional).
    merge_mode: Fact[str] = UNKNOWN
    #: A ConvLSTM's input convolution (kernel size, strides, padding, dilation, data format).
    convolution: Fact[Convolution] = UNKNOWN
    #: The Keras that wrote the file (its generation decides what each activation name computes).
    writer: Writer | None = None

    FACTS: ClassVar[tuple[str, ...]] = (
        "activation",
        "recurrent_activation",
        "use_bias",
        "reset_after",
        "go_backwards",
        "merge_mode",
    )

    def facts(self) -> dict[str, Fact[Any]]:
        return {name: getattr(self, name) for name in self.FACTS}

    def as_dict(self) -> dict[str, Any]:
        """JSON form: each fact with its origin; activations with the writer's formula too."""
        out: dict[str, Any] = {}
        for name, fact in self.facts().items():
            entry: dict[str, Any] = {"value": fact.value, "origin": fact.origin}
            if name in ("activation", "recurrent_activation"):
                found = resolve(fact.value, self.writer) if isinstance(fact.value, str) and self.writer else None
                entry["formula"] = found.formula if found else None
            out[name] = entry
        conv = self.convolution
        out["convolution"] = {"value": conv.value.as_dict() if conv.value else None, "origin": conv.origin}
        out["generation"] = self.writer.generation if self.writer else None
        out["written_by"] = self.writer.describe() if self.writer else None
        return out


def array_sha256(array: np.ndarray) -> str:
    """Digest of the bytes in the stored dtype, C order, little-endian: no arithmetic on values."""
    contiguous = np.ascontiguousarray(array)
    little = contiguous.astype(contiguous.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(little.tobytes()).hexdigest()


@dataclass(frozen=True, eq=False, init=False)
class GateTensor:
    """One gate block of one part, e.g. the forget-gate slice of the input kernel.

    The numbers are read from the file when asked for (``array``, lazily, not kept: see
    docs/architecture.md, "Big models"); ``sha256`` and ``stats`` come from the one streaming pass
    over the stored tensor, computed once for all its blocks. A block built from an array in memory
    (``GateTensor(part, gate, array, ...)``, or ``dataclasses.replace(t, array=...)``) holds that
    array instead: its digest and statistics are then the array's.
    """

    part: Part
    gate: str
    #: The stored tensor the block comes from, e.g. ``model_weights/lstm/lstm/lstm_cell/kernel:0``.
    stored_path: str
    #: The block's slice of it, e.g. ``[:, 8:16]``; empty when the block is a whole stored tensor
    #: (Keras 1 per-gate arrays). CuDNN and Keras 1 ``th`` blocks are re-laid out copies of that
    #: slice (``RecurrentLayer.conversion`` says so).
    selection: str
    #: The stored dtype name (``bfloat16`` is decoded to float32 values for arithmetic).
    dtype: str
    #: Where the numbers come from: the block of its stored tensor, read on demand.
    block: Block = field(repr=False)

    def __init__(
        self,
        part: Part,
        gate: str,
        array: np.ndarray | None = None,
        stored_path: str = "",
        selection: str = "",
        dtype: str = "",
        raw: np.ndarray | None = None,
        *,
        block: Block | None = None,
    ) -> None:
        if array is not None or raw is not None:  # numbers in memory win over a block (replace(t, array=...))
            dtype = dtype or str(np.asarray(array).dtype)
            block = Block.of_array(raw if raw is not None else np.asarray(array), dtype)
        if block is None:
            raise TypeError("GateTensor needs a block or an array")
        for name, value in (
            ("part", part),
            ("gate", gate),
            ("stored_path", stored_path),
            ("selection", selection),
            ("dtype", dtype or block.dtype),
            ("block", block),
        ):
            object.__setattr__(self, name, value)

    @property
    def array(self) -> np.ndarray:
        """The block's values (read-only; bfloat16 decoded to float32), read from the file now
        unless the array handed out last is still held somewhere."""
        return self.block.values()

    @property
    def raw(self) -> np.ndarray | None:
        """The stored words when ``array`` had to be decoded (bfloat16), so digests stay byte-exact."""
        return self.block.words() if self.dtype == "bfloat16" else None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.block.shape

    @property
    def source(self) -> str:
        """Where the block lives in the file: ``stored_path`` + ``selection``."""
        return self.stored_path + self.selection

    @property
    def sha256(self) -> str:
        """Digest of the block's stored bytes (stored dtype, C order, little-endian)."""
        return self.block.summary().sha256

    @property
    def stored_bytes_array(self) -> np.ndarray:
        """The array whose bytes are the stored ones (bfloat16 keeps its raw 16-bit words)."""
        return self.block.words()

    @property
    def stats(self) -> TensorStats:
        return self.block.summary().stats


@dataclass(frozen=True)
class Binding:
    """How a cell's tensors were found in the file."""

    #: ``store-path`` (v3 store, the writer's naming rule), ``store-order`` (v3 store, saving order
    #: and shapes), ``weight-names`` (legacy HDF5 layer group), ``object-graph`` (TF checkpoint
    #: object path), ``shapes`` (no config: found by shape among an owner's tensors).
    method: str
    #: The group, dataset or object path the tensors came from.
    where: str


@dataclass(frozen=True)
class Mismatch:
    """The stored config and the stored tensors disagree; kernelsplit cuts by the tensors."""

    key: str  #: ``units``, ``cell`` or ``reset_after``
    config: Any
    stored: Any
    message: str


_DIRECTION_COMPONENT = re.compile(r"/(forward|backward)(?=/|$)")


@dataclass
class RecurrentLayer:
    """One recurrent cell's weights, split into gate blocks, and what the cell computes."""

    name: str
    class_name: str
    cell: CellKind
    units: int
    direction: Direction | None
    tensors: list[GateTensor]
    #: True when the cell kind or units came from shapes, not from a stored config.
    inferred: bool = False
    #: Hyper-parameters that change the maths (activation, reset_after, go_backwards, ...), as stored.
    config: dict[str, Any] = field(default_factory=dict)
    #: How the stored tensors were turned into the canonical layout (``keras1``, ``cudnn``); None if fused.
    conversion: Storage | None = None
    notes: list[str] = field(default_factory=list)
    input_dim: int | None = None
    #: Where the config contradicts the shapes (also listed in ``notes``).
    mismatches: list[Mismatch] = field(default_factory=list)
    #: What the cell computes and where each fact came from.
    maths: CellMaths = field(default_factory=CellMaths)
    #: How the cell's tensors were found in the file.
    binding: Binding | None = None
    #: Other names the stored config gives the cell, which ``--layer`` also matches: a Bidirectional
    #: direction's wrapped layer (``gru1``, ``forward_gru1``). ``name`` is the path of wrapper and
    #: nested-model names (``bidi/forward``); ``--layer bidi`` matches its every direction.
    keras_names: tuple[str, ...] = ()

    @property
    def layout(self) -> CellLayout:
        return CELL_LAYOUTS[self.cell]

    @property
    def gates(self) -> tuple[str, ...]:
        return self.layout.gates

    @property
    def parts(self) -> list[Part]:
        seen: list[Part] = []
        for tensor in self.tensors:
            if tensor.part not in seen:
                seen.append(tensor.part)
        return seen

    def tensor(self, part: str, gate: str) -> GateTensor:
        """The (part, gate) block; :class:`~kernelsplit.errors.UnknownBlockError` (a KeyError) if absent."""
        for candidate in self.tensors:
            if candidate.part == part and candidate.gate == gate:
                return candidate
        raise UnknownBlockError(f"{self.name} has no {part}[{gate}]")

    def gate_arrays(self, part: str) -> dict[str, np.ndarray]:
        return {t.gate: t.array for t in self.tensors if t.part == part}

    def fused(self, part: str, order: tuple[str, ...] | None = None, stored: bool = False) -> np.ndarray:
        """The part's gate blocks concatenated again, in canonical order or in ``order``.

        ``stored=True`` concatenates the stored words (bfloat16 stays 16-bit) instead of values.
        """
        blocks = [
            (t.stored_bytes_array if stored else t.array)
            for t in (self.tensor(part, gate) for gate in (order or self.gates))
        ]
        return np.concatenate(blocks, axis=-1)

    @property
    def wrapper(self) -> str | None:
        """The Bidirectional wrapper a direction belongs to (its name without ``/forward``/``/backward``)."""
        if self.direction is None:
            return None
        key, count = _DIRECTION_COMPONENT.subn("", self.name, count=1)
        return key if count else None

    def forward(
        self,
        x: Any,
        initial_state: Any = None,
        *,
        return_sequences: bool | None = None,
        dtype: Any = np.float64,
    ) -> ForwardResult:
        """What Keras computes for this layer on ``x`` (batch, time, features): the reference
        forward pass of ``kernelsplit.forward`` (float64 unless ``dtype`` says; ``"stored"`` for the
        stored dtype). Raises ``UnknownMathsError`` when the file does not say what the layer computes."""
        from .forward import forward

        return forward(self, x, initial_state, return_sequences=return_sequences, dtype=dtype)


@dataclass
class Artifact:
    """One model file (or SavedModel folder) and the recurrent layers found in it."""

    path: str
    format: ArtifactFormat
    keras_version: str | None = None
    backend: str | None = None
    layers: list[RecurrentLayer] = field(default_factory=list)
    #: Layers whose config holds code Keras would run on load (Lambda, custom objects): never run here.
    executable_layers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Number of layers in the stored architecture (None when the file has no config).
    total_layers: int | None = None
    #: The Keras that wrote the file, as far as the file says.
    writer: Writer | None = None

    @property
    def error(self) -> None:
        """Always None: a read that failed gives a :class:`Failure` instead (see ``try_open``)."""
        return None

    def pair(self, layer: RecurrentLayer) -> tuple[RecurrentLayer, RecurrentLayer] | None:
        """The (forward, backward) directions of the Bidirectional ``layer`` is one of; None if it is none."""
        wrapper = layer.wrapper
        if wrapper is None:
            return None
        members = [other for other in self.layers if other.wrapper == wrapper]
        ahead = [m for m in members if m.direction == Direction.FORWARD]
        back = [m for m in members if m.direction == Direction.BACKWARD]
        return (ahead[0], back[0]) if len(ahead) == 1 and len(back) == 1 else None


#: What ``try_open`` gives for one path.
Outcome = Artifact | Failure
