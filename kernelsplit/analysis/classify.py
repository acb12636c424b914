"""The one classification step: a reader's weight groups -> typed cell descriptions (:class:`CellSpec`).

Everything that decides what stored tensors *are* happens here, once: the cell kind (from the
config's class, else the shapes), the units, the storage layout (fused Keras 2/3, Keras 0.x/1.x per
gate, CuDNN), the bias layout, the cell's maths with where each fact came from, and where the
config contradicts the shapes. ``split.py`` then only cuts blocks as ``layouts.py`` says.
The facts behind each rule are in docs/formats.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import CorruptFileError, UnsupportedError
from ..layouts import (
    CELL_LAYOUTS,
    CLASS_TO_KIND,
    CUDNN_CLASSES,
    GATE_COUNT_TO_KIND,
    KERAS1_TH_TO_TF,
    KERAS1_WEIGHT_NAME,
)
from ..maths import (
    DEFAULT_ACTIVATION,
    Generation,
    Writer,
    activation,
    default_recurrent_activation,
    default_reset_after,
    differs_in_keras3,
    writer_of,
)
from ..model import (
    ArtifactFormat,
    BiasLayout,
    Binding,
    CellKind,
    CellMaths,
    Direction,
    Fact,
    Mismatch,
    Origin,
    Storage,
)
from ..readers.base import LayerDescription, StoredTensor, WeightGroup
from .find_cells import find_cells, per_gate_kind

if TYPE_CHECKING:
    from ..equations import Convolution


@dataclass(frozen=True)
class FusedTensors:
    """Keras 2/3 and CuDNN storage: one tensor per part."""

    kernel: StoredTensor
    recurrent: StoredTensor
    bias: StoredTensor | None


@dataclass(frozen=True)
class PerGateTensors:
    """Keras 0.x/1.x storage: ``(role, gate) -> tensor`` with roles W, U, b."""

    by_role: dict[tuple[str, str], StoredTensor]
    #: Keras 1 ConvLSTM2D saved with ``dim_ordering='th'``: W/U gate arrays need a transpose.
    th_conv: bool = False


@dataclass(frozen=True)
class CellSpec:
    """Everything decided about one cell; ``split`` turns it into a RecurrentLayer."""

    name: str
    class_name: str
    kind: CellKind
    units: int
    storage: Storage
    bias: BiasLayout
    direction: Direction | None
    #: True when no stored config described the cell (kind and units read off the shapes).
    inferred: bool
    #: The config keys that change the maths, as stored (CuDNN layers: plus their fixed maths).
    config: dict[str, Any]
    maths: CellMaths
    tensors: FusedTensors | PerGateTensors
    mismatches: tuple[Mismatch, ...] = ()
    notes: tuple[str, ...] = ()
    binding: Binding | None = None
    #: Other names the cell answers to in filters (``RecurrentLayer.keras_names``).
    keras_names: tuple[str, ...] = ()


#: CuDNN kernels compute one fixed function whatever the config says (docs/formats.md, "CuDNN layers").
CUDNN_MATHS: dict[str, dict[str, Any]] = {
    "lstm": {"activation": "tanh", "recurrent_activation": "sigmoid"},
    "gru": {"activation": "tanh", "recurrent_activation": "sigmoid", "reset_after": True},
}

#: The start of the note on Keras 1 ``dim_ordering='th'`` ConvLSTM2D arrays (converted by ``split``).
KERAS1_TH_NOTE = "Keras 1 dim_ordering='th' ConvLSTM2D"
_NO_CONFIG_NOTE = "no stored config: cell kind and units inferred from tensor shapes"


def classify(group: WeightGroup, fmt: ArtifactFormat, writer: Writer | None = None) -> list[CellSpec]:
    """The cells of one weight group (exactly one when a config describes it).

    ``writer`` is the Keras that wrote the file (``maths.writer_of``): it decides the defaults of
    config keys a file leaves out, and what each activation name computes.
    """
    writer = writer or writer_of(fmt, None)
    if group.description is not None:
        tensors = group.tensors
        cell = per_gate_kind(tensors)
        return [_classify(group.name, tensors, group.description, cell, group.direction, group, [], writer)]
    specs = []
    for candidate in find_cells(group):
        if group.class_hint:
            notes = [f"no stored config: class inferred from the store path ({group.hint_source}) and tensor shapes"]
        else:
            notes = [_NO_CONFIG_NOTE]
        if fmt == ArtifactFormat.H5_KERAS0:
            notes += _keras0_notes(candidate.tensors, candidate.per_gate_kind, group.name)
        found = (candidate.name, candidate.tensors, None, candidate.per_gate_kind, candidate.direction)
        specs.append(_classify(*found, group, notes, writer))
    return specs


def _keras0_notes(tensors: list[StoredTensor], per_gate: str | None, where: str) -> list[str]:
    """Refuse what nameless Keras 0.x shapes cannot identify (the file records no layer class).

    Nine (W, U, b) triples are a GRU, but Keras 0.1-0.2's JZS3 stores exactly the same nine
    arrays (W_z, U_z, b_z, W_r, ...) and computes something else (z on tanh(h), roles of z
    swapped), so calling them a GRU would be a guess. A 12-array LSTM has no such twin.
    """
    if per_gate == "gru":
        raise UnsupportedError(
            f"Keras 0.x GRU weights without config: {where} holds 9 per-gate (W, U, b) arrays, "
            "which Keras 0.1-0.2's JZS3 stores identically with different maths"
        )
    if per_gate is None and len(tensors) == 3 and tensors[1].ndim == 2 and tensors[1].shape[0] == tensors[1].shape[1]:
        return [
            "Keras 0.x: a SimpleRNN, or a SimpleDeepRNN(depth=1) of Keras 0.1-0.2 "
            "(same three arrays, inner activation on h @ U)"
        ]
    return []


def _classify(
    name: str,
    tensors: list[StoredTensor],
    description: LayerDescription | None,
    per_gate: str | None,
    direction: str | None,
    group: WeightGroup,
    notes: list[str],
    writer: Writer,
) -> CellSpec:
    notes = notes + list(group.notes)
    if group.binding is not None and group.binding.method == "store-order":
        notes.append(
            f"bound by saving order and shapes to {group.binding.where}: the store's group names follow "
            "no naming rule of the Keras version that wrote the file"
        )
    config_kind = _kind_from_config(description)
    hyper: dict[str, Any] = dict(description.hyper) if description else {}
    layout: FusedTensors | PerGateTensors
    if per_gate is not None:
        kind, units, layout = _per_gate_layout(name, tensors, config_kind, per_gate, hyper, notes)
        storage, bias = Storage.KERAS1, BiasLayout.PER_GATE
    else:
        cudnn = description is not None and description.class_name in CUDNN_CLASSES
        kind, units, storage, bias, layout = _fused_layout(name, description, tensors, config_kind, cudnn, notes)
    mismatches = _mismatches(name, description, config_kind, kind, units, storage, bias)
    notes += [m.message for m in mismatches]
    maths = _maths(hyper, kind, storage, bias, description is not None, writer)
    if kind == "conv_lstm" and description is not None:
        maths = replace(maths, convolution=_convolution(hyper, _kernel_size(layout)))
    notes += _keras3_trap(maths)
    if storage == Storage.CUDNN:
        hyper.update(CUDNN_MATHS.get(kind, {}))
    class_name = description.class_name if description else _inferred_class(kind, storage, group.class_hint)
    return CellSpec(
        name=name,
        class_name=class_name,
        kind=CellKind(kind),
        units=units,
        storage=storage,
        bias=bias,
        direction=Direction(direction) if direction else None,
        inferred=description is None,
        config=hyper,
        maths=maths,
        tensors=layout,
        mismatches=tuple(mismatches),
        notes=tuple(notes),
        binding=group.binding,
        keras_names=keras_names(name, description.keras_name if description else "", direction),
    )


def keras_names(name: str, stored: str, direction: str | None) -> tuple[str, ...]:
    """The names besides ``name`` a user may know the cell by, from the stored config.

    A Bidirectional's directions are named ``<wrapper>/forward`` and ``<wrapper>/backward``; Keras
    names the wrapped layers ``forward_<inner>`` and ``backward_<inner>`` at run time, and stores
    ``<inner>`` (Keras 2, tf-keras) or the prefixed name (Keras 3). All three spellings are kept.
    """
    if not stored:
        return ()
    found = [stored]
    if direction:
        prefix = f"{direction}_"
        inner = stored[len(prefix) :] if stored.startswith(prefix) else stored
        found += [inner, prefix + inner]
    return tuple(n for n in dict.fromkeys(found) if n and n != name)


def _kind_from_config(description: LayerDescription | None) -> str | None:
    if description is None:
        return None
    return CLASS_TO_KIND.get(description.cell_class) or CLASS_TO_KIND.get(description.class_name)


def _inferred_class(kind: str, storage: Storage, hint: str | None) -> str:
    """``inferred:LSTM``, ``inferred:CuDNNGRU``... for cells no stored config names."""
    if hint:
        return f"inferred:{hint}"
    base = CELL_LAYOUTS[kind].classes[0]
    if storage == Storage.CUDNN:
        base = f"CuDNN{base}"
    elif storage == Storage.KERAS1:
        base = f"{base}(keras1-per-gate)"
    return f"inferred:{base}"


# ------------------------------------------------------------------------------ fused and CuDNN


def _units_and_gates(name: str, recurrent: StoredTensor) -> tuple[int, int]:
    shape = recurrent.shape
    if len(shape) < 2 or shape[-2] == 0 or shape[-1] % shape[-2]:
        raise CorruptFileError(
            f"layer {name}: recurrent kernel {recurrent.source} has shape {shape}, not (..., units, gates*units)"
        )
    return shape[-2], shape[-1] // shape[-2]


def _fused_layout(
    name: str,
    description: LayerDescription | None,
    tensors: list[StoredTensor],
    config_kind: str | None,
    cudnn: bool,
    notes: list[str],
) -> tuple[str, int, Storage, BiasLayout, FusedTensors]:
    if len(tensors) not in (2, 3):
        class_name = description.class_name if description else ""
        raise UnsupportedError(
            f"layer {name} ({class_name}): {len(tensors)} stored tensors, "
            "expected kernel, recurrent_kernel and optional bias"
        )
    kernel, recurrent = tensors[0], tensors[1]
    bias = tensors[2] if len(tensors) == 3 else None
    units, n_gates = _units_and_gates(name, recurrent)
    if kernel.ndim < 2:
        raise CorruptFileError(
            f"layer {name}: kernel {kernel.source} has shape {kernel.shape}, not (..., input, gates*units)"
        )
    if kernel.size == 0:
        raise CorruptFileError(f"layer {name}: kernel {kernel.source} is empty {kernel.shape}")
    if kernel.shape[-1] != recurrent.shape[-1] or kernel.ndim != recurrent.ndim:
        raise CorruptFileError(
            f"layer {name}: kernel {kernel.shape} and recurrent kernel {recurrent.shape} do not belong to one cell"
        )
    kind = "conv_lstm" if kernel.ndim > 2 or config_kind == "conv_lstm" else GATE_COUNT_TO_KIND.get(n_gates, "")
    layout = CELL_LAYOUTS.get(kind)
    if layout is None or layout.n_gates != n_gates:
        raise UnsupportedError(f"layer {name}: {n_gates} gate blocks of {units} units fit no known cell")
    storage = Storage.CUDNN if cudnn else Storage.FUSED
    bias_layout = BiasLayout.NONE
    if bias is not None:
        width = n_gates * units
        if bias.shape == (width,):
            bias_layout = BiasLayout.SINGLE
        elif bias.shape == (2, width):
            bias_layout = BiasLayout.PAIR
        elif bias.shape == (2 * width,):
            bias_layout = BiasLayout.HALVES  # only CuDNN stores two halves: weights-only CuDNN files
            storage = Storage.CUDNN
        else:
            raise CorruptFileError(
                f"layer {name}: bias {bias.source} has shape {bias.shape}, expected "
                f"({width},), (2, {width}) or ({2 * width},)"
            )
    if storage == Storage.CUDNN:
        if kernel.ndim != 2:
            raise UnsupportedError(f"layer {name}: CuDNN weights with {kernel.ndim}-D kernel")
        notes.append(
            "CuDNN weights: input blocks re-laid out and recurrent blocks transposed as "
            "Keras's loader converts them; sigmoid recurrent activation; both bias halves kept"
        )
    return kind, units, storage, bias_layout, FusedTensors(kernel, recurrent, bias)


# ------------------------------------------------------------------------------ Keras 0.x / 1.x


def _per_gate_layout(
    name: str,
    tensors: list[StoredTensor],
    config_kind: str | None,
    per_gate: str,
    hyper: dict[str, Any],
    notes: list[str],
) -> tuple[str, int, PerGateTensors]:
    kind = config_kind if config_kind and CELL_LAYOUTS[config_kind].keras1_storage_order else per_gate
    if kind == "lstm" and tensors[0].ndim == 4 and tensors[1].ndim == 4:
        kind = "conv_lstm"  # Keras 1 ConvLSTM2D without config: 4-D W arrays
    order = CELL_LAYOUTS[kind].keras1_storage_order or ()
    if 3 * len(order) != len(tensors):
        raise CorruptFileError(f"layer {name}: {len(tensors)} per-gate tensors for a {kind} cell")
    by_role: dict[tuple[str, str], StoredTensor] = {}
    for position, tensor in enumerate(tensors):
        match = KERAS1_WEIGHT_NAME.search(tensor.name) if tensor.name else None
        if match and match.group(2) in order:
            role = (match.group(1), match.group(2))
        else:
            role = ("WUb"[position % 3], order[position // 3])
        by_role[role] = tensor
    matrix_rank = 4 if kind == "conv_lstm" else 2
    for (letter, gate), tensor in by_role.items():
        rank = 1 if letter == "b" else matrix_rank
        if tensor.ndim != rank:
            raise CorruptFileError(
                f"layer {name}: {tensor.source} has shape {tensor.shape}, not a {rank}-D {letter}_{gate} array"
            )
    th = kind == "conv_lstm" and _keras1_conv_is_th(name, hyper, by_role, order)
    first = order[0]
    units = by_role.get(("b", first), tensors[2]).shape[-1]
    for letter in "WUb":
        shapes = set()
        for gate in CELL_LAYOUTS[kind].gates:
            block = by_role.get((letter, gate))
            if block is None:
                raise CorruptFileError(f"layer {name}: no {letter}_{gate} tensor among its weights")
            shape = tuple(block.shape[i] for i in KERAS1_TH_TO_TF) if th and letter != "b" else block.shape
            if shape[-1] != units:
                raise CorruptFileError(f"layer {name}: {block.source} has shape {block.shape}, expected {units} units")
            shapes.add(shape)
        if len(shapes) > 1:
            raise CorruptFileError(f"layer {name}: its {letter} arrays differ in shape ({sorted(shapes)})")
    if th:
        notes.append(
            f"{KERAS1_TH_NOTE}: each W/U gate array (filters, stack, "
            "rows, cols) transposed (2, 3, 1, 0) into Keras 2's (rows, cols, stack, filters)"
        )
    return kind, units, PerGateTensors(by_role, th)


def _keras1_conv_is_th(
    name: str, hyper: dict[str, Any], by_role: dict[tuple[str, str], StoredTensor], order: tuple[str, ...]
) -> bool:
    """Keras 1 ConvLSTM2D orientation: ``dim_ordering`` from the config, else from the shapes.

    th stores W (filters, stack, rows, cols) and U (filters, filters, rows, cols); tf stores
    (rows, cols, stack, filters) and (rows, cols, filters, filters). filters = len(b).
    """
    ordering = hyper.get("dim_ordering")
    if ordering in ("th", "tf"):
        return bool(ordering == "th")
    first = order[0]
    kernel, recurrent, bias = (by_role.get((letter, first)) for letter in "WUb")
    if kernel is None or recurrent is None or bias is None or bias.ndim != 1:
        raise CorruptFileError(f"layer {name}: incomplete Keras 1 ConvLSTM2D weights")
    filters = bias.shape[0]
    th = recurrent.shape[:2] == (filters, filters) and kernel.shape[0] == filters
    tf = recurrent.shape[2:] == (filters, filters) and kernel.shape[-1] == filters
    if th and tf:
        raise UnsupportedError(
            f"layer {name}: Keras 1 ConvLSTM2D weights without config: W {kernel.shape} and "
            f"U {recurrent.shape} fit both dim_ordering 'th' and 'tf'"
        )
    if not (th or tf):
        raise CorruptFileError(
            f"layer {name}: Keras 1 ConvLSTM2D W {kernel.shape} / U {recurrent.shape} fit "
            f"neither dim_ordering for {filters} filters"
        )
    return th


# ----------------------------------------------------------------------- config against shapes


def _mismatches(
    name: str,
    description: LayerDescription | None,
    config_kind: str | None,
    kind: str,
    units: int,
    storage: Storage,
    bias: BiasLayout,
) -> list[Mismatch]:
    if description is None:
        return []
    found = []
    if config_kind and config_kind != kind:
        found.append(
            Mismatch(
                "cell",
                config_kind,
                kind,
                f"config says {description.class_name} ({config_kind}) but the stored shapes are {kind}",
            )
        )
    config_units = description.hyper.get("units")
    if isinstance(config_units, int) and not isinstance(config_units, bool) and config_units != units:
        found.append(
            Mismatch(
                "units",
                config_units,
                units,
                f"config says units={config_units} but the stored shapes give units={units}",
            )
        )
    stored_reset_after = bias in (BiasLayout.PAIR, BiasLayout.HALVES)
    config_reset_after = description.hyper.get("reset_after")
    if (
        kind == "gru"
        and storage == Storage.FUSED
        and isinstance(config_reset_after, bool)
        and bias != BiasLayout.NONE
        and config_reset_after != stored_reset_after
    ):
        found.append(
            Mismatch(
                "reset_after",
                config_reset_after,
                stored_reset_after,
                f"config says reset_after={config_reset_after} but the stored bias "
                f"{'has' if stored_reset_after else 'lacks'} a recurrent row",
            )
        )
    return found


# ------------------------------------------------------------------------------------ the maths


def _fact(hyper: dict[str, Any], key: str, kind: type, described: bool, default: Any = None) -> Fact[Any]:
    """A config value (origin ``config``), else the writer's default for a described layer
    (``generation-default``), else unknown. Only what the config really stores counts."""
    value = hyper.get(key)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return Fact(value, Origin.CONFIG)
    if described and key not in hyper and default is not None:
        return Fact(default, Origin.GENERATION_DEFAULT)
    return Fact()


def _maths(
    hyper: dict[str, Any], kind: str, storage: Storage, bias: BiasLayout, described: bool, writer: Writer
) -> CellMaths:
    """What the cell computes: from the config, the CuDNN class, the stored tensors and, for keys a
    config leaves out, the default of the Keras that wrote it (docs/formats.md, "Activations and
    defaults"). Nothing is filled in for cells without a config: that is for the user to assume."""
    if storage == Storage.CUDNN:  # one fixed function whatever the config says
        activation = Fact("tanh", Origin.CLASS)
        recurrent: Fact[str] = Fact("sigmoid", Origin.CLASS)
    else:
        activation = _fact(hyper, "activation", str, described, DEFAULT_ACTIVATION)
        recurrent = Fact()
        if kind != "simple_rnn":
            default = default_recurrent_activation(kind, writer)
            recurrent = _fact(hyper, "recurrent_activation", str, described, default)
    reset_after: Fact[bool] = Fact()
    if kind == "gru":
        if storage == Storage.CUDNN:
            reset_after = Fact(True, Origin.CLASS)
        elif bias in (BiasLayout.SINGLE, BiasLayout.PAIR):
            reset_after = Fact(bias == BiasLayout.PAIR, Origin.STORED)
        elif storage == Storage.KERAS1:
            reset_after = Fact(False, Origin.CLASS)  # Keras 1 GRU computes the reset_after=False form
        else:
            reset_after = _fact(hyper, "reset_after", bool, described, default_reset_after(writer))
    return CellMaths(
        activation=activation,
        recurrent_activation=recurrent,
        use_bias=Fact(bias != BiasLayout.NONE, Origin.STORED),
        reset_after=reset_after,
        go_backwards=_fact(hyper, "go_backwards", bool, described, False),
        # merge_mode None (outputs not merged) is a setting a config stores, not an unknown.
        merge_mode=Fact(None, Origin.CONFIG)
        if "merge_mode" in hyper and hyper["merge_mode"] is None
        else _fact(hyper, "merge_mode", str, described),
        writer=writer,
    )


def _kernel_size(layout: FusedTensors | PerGateTensors) -> tuple[int, ...]:
    """A ConvLSTM's kernel size, read off its stored input kernel (Keras 1 th arrays transposed)."""
    if isinstance(layout, FusedTensors):
        return tuple(layout.kernel.shape[:-2])
    first = next(tensor for (role, _), tensor in layout.by_role.items() if role == "W")
    shape = tuple(first.shape[i] for i in KERAS1_TH_TO_TF) if layout.th_conv else first.shape
    return tuple(shape[:-2])


def _conv_tuple(value: Any, rank: int) -> tuple[int, ...] | None:
    """Keras's ``standardize_tuple``: an int repeated ``rank`` times, or ``rank`` positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value] * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        return tuple(value)
    return None


def _convolution(hyper: dict[str, Any], kernel_size: tuple[int, ...]) -> Fact[Convolution]:
    """A ConvLSTM's input convolution from its stored config (Keras 1: ``subsample``, ``border_mode``,
    ``dim_ordering``, and no dilation). Unknown when any setting is missing or unreadable: the data
    format's default is a user setting of the machine that saved the file, never recorded."""
    from ..equations import DATA_FORMATS, PADDINGS, Convolution  # here: it costs start-up for every other file

    rank = len(kernel_size)
    keras1 = "dilation_rate" not in hyper and any(k in hyper for k in ("subsample", "border_mode", "dim_ordering"))
    strides = _conv_tuple(hyper.get("strides", hyper.get("subsample")), rank)
    dilation = (1,) * rank if keras1 else _conv_tuple(hyper.get("dilation_rate"), rank)
    padding = hyper.get("padding", hyper.get("border_mode"))
    padding = padding.lower() if isinstance(padding, str) else None
    data_format = hyper.get("data_format")
    if data_format is None and hyper.get("dim_ordering") in ("th", "tf"):
        data_format = "channels_first" if hyper["dim_ordering"] == "th" else "channels_last"
    if strides is None or dilation is None or padding not in PADDINGS or data_format not in DATA_FORMATS:
        return Fact()
    return Fact(Convolution(rank, kernel_size, strides, padding, dilation, data_format), Origin.CONFIG)


def _keras3_trap(maths: CellMaths) -> list[str]:
    """Say where Keras 3 would load this layer and compute a different function."""
    writer = maths.writer
    if writer is None or writer.generation is None:
        return []
    notes = []
    for key in ("activation", "recurrent_activation"):
        name = getattr(maths, key).value
        if isinstance(name, str) and differs_in_keras3(name, writer.generation):
            ours, theirs = activation(name, writer.generation), activation(name, Generation.KERAS3)
            assert ours is not None and theirs is not None
            notes.append(
                f"{key} {name} is {ours.formula} in {writer.describe()}, which wrote this file; Keras 3 "
                f"would load this layer and compute {theirs.formula} instead"
            )
    return notes
