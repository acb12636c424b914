"""Walk a stored Keras architecture (config JSON) into recurrent cells and weight owners.

Only ``json.loads`` output is touched: no class is imported or instantiated, and code-bearing
fields (``function``, ``module``) stay opaque strings. The walk yields, in weight order, every
layer that owns weights, so readers can bind stored tensors to cells:

* v3 stores (``.keras``, ``.weights.h5``) address a cell by a path built from snake-cased class
  names with per-container counters (docs/formats.md, "Keras 3 .keras"): ``Owner.v3_path``;
* legacy ``.h5`` groups list a top-level layer's tensors in ``weight_names`` order, trainable
  weights of the whole subtree first (docs/formats.md, "Legacy HDF5"): ``legacy_weight_order``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ...layouts import CUDNN_CLASSES
from ..base import LayerDescription

#: Layers that own one cell's weights directly (the cell is their ``cell`` attribute in v3 stores).
RNN_LAYERS = {
    "LSTM",
    "GRU",
    "SimpleRNN",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "LSTMV1",
    "GRUV1",
}
#: CuDNN layers own their variables themselves (no cell).
CUDNN_LAYERS = CUDNN_CLASSES
#: Layers whose config carries code that Keras would run when loading.
EXECUTABLE_CLASSES = {"Lambda", "TFOpLambda", "SlicingOpLambda", "TorchModuleWrapper", "TFSMLayer"}

#: (trainable, non-trainable) weight counts of common non-recurrent layers, for legacy groups of
#: nested models where tensors must be attributed by position. Keys absent here are unknown.
_PARAMETERLESS = {
    "InputLayer",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "Flatten",
    "Reshape",
    "Permute",
    "RepeatVector",
    "Masking",
    "Lambda",
    "TFOpLambda",
    "SlicingOpLambda",
    "Concatenate",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Dot",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "Cropping1D",
    "Cropping2D",
    "Identity",
    "Merge",
}
_KERNEL_AND_BIAS = {
    "Dense",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "Convolution1D",
    "Convolution2D",
    "TimeDistributedDense",
}


def snake_case(name: str) -> str:
    """Keras 3 ``naming.to_snake_case`` (LSTM -> lstm, ConvLSTM2D -> conv_lstm2d, GRU -> gru)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


@dataclass
class LayerConfig:
    class_name: str
    config: dict[str, Any]
    name: str

    @classmethod
    def from_entry(cls, entry: Any) -> LayerConfig:
        if not isinstance(entry, dict):
            return cls("?", {}, "?")
        config = entry.get("config")
        class_name = str(entry.get("class_name", "?"))
        if isinstance(config, list):  # Keras 1.x-2.2.2 Sequential: a bare list of layers
            config = {"layers": config}
        if not isinstance(config, dict):
            config = {}
        name = config.get("name") or entry.get("name") or snake_case(class_name)
        return cls(class_name, config, str(name))

    @property
    def sublayers(self) -> list[LayerConfig] | None:
        layers = self.config.get("layers")
        if isinstance(layers, list):
            return [LayerConfig.from_entry(e) for e in layers]
        return None

    @property
    def trainable(self) -> bool:
        return self.config.get("trainable", True) is not False


@dataclass
class Cell:
    """A recurrent cell described by the config."""

    name: str
    keras_name: str
    description: LayerDescription
    direction: str | None
    #: Where a v3 store keeps the cell's weights (``layers/lstm/cell``); None when not stored.
    v3_path: str | None
    trainable: bool
    n_weights: int
    #: Object-graph path below the layer (TF checkpoints name stacked cells by list index).
    object_path: tuple[str, ...] = ()
    #: How ``v3_path`` was found (``store-path``: the writer's naming rule; ``store-order``).
    found_by: str = "store-path"


@dataclass
class Owner:
    """Any weight-owning layer in the walk: a recurrent Cell or another layer."""

    cell: Cell | None
    class_name: str
    name: str
    trainable: bool
    #: (trainable, non-trainable) counts; ``None`` when the class is unknown to us.
    counts: tuple[int, int] | None
    v3_path: str | None = ""


#: How a container names its layers' store groups: (the container's own store path, its layers)
#: -> per layer, its store path (None: nothing stored for it) and how that path was found.
ContainerNamer = Callable[[str, "list[LayerConfig]"], "list[tuple[str | None, str]]"]


def keras3_names(v3_path: str, sublayers: list[LayerConfig]) -> list[tuple[str | None, str]]:
    """Keras 3 (and tf-keras >= 2.14) naming: ``layers/<snake(class)>``, ``_1``, ``_2``... per container."""
    counter = _Counter()
    base = f"{v3_path}/layers" if v3_path else "layers"
    return [(f"{base}/{counter(snake_case(sub.class_name))}", "store-path") for sub in sublayers]


def _under(path: str | None, *parts: str) -> str | None:
    return "/".join((path, *parts)) if path is not None else None


def _activation_name(value: Any) -> Any:
    if isinstance(value, dict):  # registered function: {"class_name": "function", "config": "tanh"}
        inner = value.get("config")
        return inner if isinstance(inner, str) else value.get("class_name")
    return value


def _plain(value: Any) -> bool:
    """A scalar or a short flat list of scalars: what these keys hold in any real config."""
    scalar = (str, int, float, bool, type(None))
    if isinstance(value, scalar):
        return True
    return isinstance(value, (list, tuple)) and len(value) <= 8 and all(isinstance(v, scalar) for v in value)


def hyperparameters(cfg: dict[str, Any], class_name: str) -> dict[str, Any]:
    """The config keys that change the maths, with Keras 1 key names mapped to Keras 2 ones."""
    hyper: dict[str, Any] = {}
    units = cfg.get("units", cfg.get("output_dim", cfg.get("filters", cfg.get("nb_filter"))))
    if units is not None:
        hyper["units"] = units
    # CuDNN layers store no activations: their fixed maths is added in analysis/classify.py.
    for key, legacy in (("activation", None), ("recurrent_activation", "inner_activation")):
        value = cfg.get(key, cfg.get(legacy) if legacy else None)
        if value is not None:
            hyper[key] = _activation_name(value)
    for key in (
        "use_bias",
        "reset_after",
        "go_backwards",
        "time_major",
        "return_sequences",
        "return_state",
        "merge_mode",
        "unit_forget_bias",
        "stateful",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "implementation",
        "consume_less",
        "dim_ordering",
        "nb_row",
        "nb_col",
        "border_mode",
        "subsample",
    ):
        if key in cfg and _plain(cfg[key]):
            hyper[key] = cfg[key]
    if class_name in ("GRU", "GRUCell", "GRUV1") and "reset_after" not in hyper:
        hyper["reset_after"] = False  # absent before Keras 2.1.5 / in v1 layers: False
    dtype = cfg.get("dtype")
    if isinstance(dtype, dict):  # Keras 3 DTypePolicy: {"class_name": ..., "config": {"name": ...}}
        inner = dtype.get("config")
        dtype = inner.get("name") if isinstance(inner, dict) else dtype.get("class_name")
    if isinstance(dtype, str):
        hyper["dtype"] = dtype
    return hyper


def _other_counts(layer: LayerConfig) -> tuple[int, int] | None:
    cfg = layer.config
    if layer.class_name in _PARAMETERLESS:
        return (0, 0)
    if layer.class_name in _KERNEL_AND_BIAS:
        return (1 + (cfg.get("use_bias", cfg.get("bias", True)) is not False), 0)
    if layer.class_name == "SeparableConv2D" or layer.class_name == "SeparableConv1D":
        return (2 + (cfg.get("use_bias", True) is not False), 0)
    if layer.class_name == "Embedding":
        return (1, 0)
    if layer.class_name == "BatchNormalization":
        learned = (cfg.get("scale", True) is not False) + (cfg.get("center", True) is not False)
        return (learned, 2)
    if layer.class_name == "LayerNormalization":
        return ((cfg.get("scale", True) is not False) + (cfg.get("center", True) is not False), 0)
    return None


class _Counter:
    """Keras 3 ``_get_unique_name``: the first of a name is bare, later ones get ``_1``, ``_2``..."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        count = self.seen.get(base, 0)
        self.seen[base] = count + 1
        return base if count == 0 else f"{base}_{count}"


def _cell_weight_count(hyper: dict[str, Any]) -> int:
    return 3 if hyper.get("use_bias", True) is not False else 2


def _make_cell(
    name: str,
    keras_name: str,
    class_name: str,
    cell_class: str,
    cfg: dict[str, Any],
    layer_cfg: dict[str, Any],
    direction: str | None,
    v3_path: str | None,
    trainable: bool,
    object_path: tuple[str, ...],
    found_by: str,
) -> Cell:
    hyper = hyperparameters(layer_cfg, class_name)
    if cfg:  # RNN(cell): the cell's own config decides units, activations, reset_after
        hyper.update(hyperparameters(cfg, cell_class))
    return Cell(
        name,
        keras_name,
        LayerDescription(class_name, cell_class, hyper, keras_name),
        direction,
        v3_path,
        trainable,
        _cell_weight_count(hyper),
        object_path=object_path,
        found_by=found_by,
    )


def walk_layer(
    layer: LayerConfig,
    display: str,
    v3_path: str | None,
    trainable: bool = True,
    direction: str | None = None,
    object_path: tuple[str, ...] = (),
    namer: ContainerNamer = keras3_names,
    found_by: str = "store-path",
) -> Iterator[Owner]:
    """Every weight owner under ``layer``, in the order its weights are created."""
    trainable = trainable and layer.trainable
    cls, cfg = layer.class_name, layer.config
    if cls in RNN_LAYERS or cls in CUDNN_LAYERS:
        cell_class = {
            "LSTM": "LSTMCell",
            "LSTMV1": "LSTMCell",
            "GRU": "GRUCell",
            "GRUV1": "GRUCell",
            "SimpleRNN": "SimpleRNNCell",
        }.get(cls, cls)
        cell_path = v3_path if cls in CUDNN_LAYERS else _under(v3_path, "cell")
        cell = _make_cell(
            display,
            layer.name,
            cls,
            cell_class,
            {},
            cfg,
            direction,
            cell_path,
            trainable,
            object_path if cls in CUDNN_LAYERS else (*object_path, "cell"),
            found_by,
        )
        yield Owner(cell, cls, layer.name, trainable, None, cell_path)
    elif cls == "RNN":
        inner = LayerConfig.from_entry(cfg.get("cell"))
        if inner.class_name == "StackedRNNCells":
            counter = _Counter()
            cells = inner.config.get("cells") or []
            for index, entry in enumerate(cells):
                sub = LayerConfig.from_entry(entry)
                path = _under(v3_path, "cell", "cells", counter(snake_case(sub.class_name)))
                cell = _make_cell(
                    f"{display}/{sub.name}",
                    sub.name,
                    f"RNN({sub.class_name})",
                    sub.class_name,
                    sub.config,
                    cfg,
                    direction,
                    path,
                    trainable,
                    (*object_path, "cell", "cells", str(index)),
                    found_by,
                )
                yield Owner(cell, sub.class_name, sub.name, trainable, None, path)
        else:
            path = _under(v3_path, "cell")
            cell = _make_cell(
                display,
                layer.name,
                f"RNN({inner.class_name})",
                inner.class_name,
                inner.config,
                cfg,
                direction,
                path,
                trainable,
                (*object_path, "cell"),
                found_by,
            )
            yield Owner(cell, inner.class_name, layer.name, trainable, None, path)
    elif cls == "Bidirectional":
        forward = LayerConfig.from_entry(cfg.get("layer"))
        backward_entry = cfg.get("backward_layer")
        if backward_entry is not None:
            backward = LayerConfig.from_entry(backward_entry)
        else:  # the backward layer is the template with go_backwards flipped
            flipped = dict(forward.config)
            flipped["go_backwards"] = not forward.config.get("go_backwards", False)
            backward = LayerConfig(forward.class_name, flipped, forward.name)
        merge_mode = cfg.get("merge_mode", "concat")  # the wrapper's; each direction carries it
        forward, backward = (
            LayerConfig(sub.class_name, {**sub.config, "merge_mode": merge_mode}, sub.name)
            for sub in (forward, backward)
        )
        for sub, side in ((forward, "forward"), (backward, "backward")):
            path = _under(v3_path, f"{side}_layer")
            objects = (*object_path, f"{side}_layer")
            yield from walk_layer(sub, f"{display}/{side}", path, trainable, side, objects, namer, found_by)
    elif cls == "TimeDistributed":
        inner = LayerConfig.from_entry(cfg.get("layer"))
        path = _under(v3_path, "layer")
        objects = (*object_path, "layer")
        yield from walk_layer(inner, f"{display}/{inner.name}", path, trainable, direction, objects, namer, found_by)
    elif layer.sublayers is not None:
        yield from walk_container(layer, display, v3_path, trainable, namer)
    else:
        yield Owner(None, cls, layer.name, trainable, _other_counts(layer), v3_path)


def unknown_class_note(class_name: str, name: str) -> str:
    """The note on a layer whose class the walk does not know, whose weights are searched by shape
    (docs/formats.md, "Classes kernelsplit does not know")."""
    return (
        f"{class_name} ({name}) is a layer class kernelsplit does not know: "
        "its weights were searched for recurrent cells by their shapes; its maths is unknown"
    )


def walk_container(
    model: LayerConfig,
    display: str,
    v3_path: str | None,
    trainable: bool = True,
    namer: ContainerNamer = keras3_names,
) -> Iterator[Owner]:
    sublayers = model.sublayers or []
    if model.class_name == "Sequential" and sublayers and sublayers[0].class_name == "InputLayer":
        sublayers = sublayers[1:]  # Sequential.layers omits its InputLayer (docs/formats.md)
    _refuse_duplicate_names(sublayers, display)
    names = namer(v3_path, sublayers) if v3_path is not None else [(None, "store-path")] * len(sublayers)
    for sub, (path, found_by) in zip(sublayers, names, strict=True):
        name = f"{display}/{sub.name}" if display else sub.name
        yield from walk_layer(sub, name, path, trainable, namer=namer, found_by=found_by)


def _refuse_duplicate_names(sublayers: list[LayerConfig], where: str) -> None:
    """Keras refuses two layers of one model with the same name; a config that has them is ambiguous
    (which one do the weights belong to?) and would make name-keyed steps repeat work."""
    seen: set[str] = set()
    for sub in sublayers:
        if sub.name in seen and sub.name != "?":
            from ...errors import AmbiguousFileError

            inside = f" in {where}" if where else ""
            raise AmbiguousFileError(f"the config names two layers {sub.name!r}{inside}; Keras requires unique names")
        seen.add(sub.name)


def holds_cells(layer: LayerConfig) -> bool:
    """Whether the walk finds a recurrent cell in ``layer`` (directly or inside it)."""
    return any(owner.cell is not None for owner in walk_layer(layer, layer.name, None))


_KERAS_MODULES = ("keras", "tf_keras", "tensorflow")
#: The most layers (entries of all ``layers`` lists) and nested models a config may describe; the
#: largest published Keras models have a few thousand layers and a handful of nesting levels.
MAX_LAYERS = 100_000
MAX_NESTING = 64
#: Keras serializes Python lambdas anywhere (an activation, an initializer) under this class name.
_LAMBDA_CLASSES = {"__lambda__"}


def _is_custom(node: dict[str, Any]) -> bool:
    """A serialized object Keras would import from outside itself (``module``) or look up among
    registered custom objects (``Package>Name``), i.e. code the file names."""
    module = node.get("module")
    registered = node.get("registered_name")
    cls = node.get("class_name")
    if isinstance(registered, str) and ">" in registered:
        return True
    if isinstance(cls, str) and ">" in cls:
        return True
    return isinstance(module, str) and bool(module) and module.split(".")[0] not in _KERAS_MODULES


def _code_kind(node: dict[str, Any]) -> str | None:
    """What code a config node carries, or None."""
    cls = node.get("class_name")
    cfg = node.get("config")
    if cls in _LAMBDA_CLASSES:
        return "Python lambda"
    if isinstance(cls, str) and cls in EXECUTABLE_CLASSES and isinstance(cfg, dict):
        return cls
    if _is_custom(node):
        module = node.get("module")
        name = node.get("registered_name") or cls
        where = f"{module}.{name}" if isinstance(module, str) and module and ">" not in str(name) else name
        return f"custom {where}"
    if node.get("function_type") == "lambda" or (isinstance(node.get("function"), list) and node.get("function")):
        return "marshalled Python bytecode"
    return None


def bound_config(config: Any) -> None:
    """Refuse a config describing more layers or deeper nesting than any model has (``too-large``),
    before anything walks it: the walks below are linear in the layers, this keeps them bounded."""
    from ...errors import TooLargeError

    layers = 0
    stack: list[tuple[Any, int]] = [(config, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            inner = node.get("layers")
            if isinstance(inner, list):
                layers += len(inner)
                depth += 1
                if layers > MAX_LAYERS:
                    raise TooLargeError(f"the config describes more than {MAX_LAYERS} layers (not read)")
                if depth > MAX_NESTING:
                    raise TooLargeError(f"the config nests models more than {MAX_NESTING} levels deep (not read)")
            stack.extend((value, depth) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth) for value in node)


def executable_layers(config: Any) -> list[str]:
    """What in a config carries code Keras would run or import on load, never run here: Lambda
    layers, custom classes, and code nested anywhere below a layer (a ``__lambda__`` activation,
    an initializer naming ``builtins.exec``). Each as ``layer (what)`` or ``layer: key (what)``."""
    bound_config(config)
    found: list[str] = []
    flagged: set[str] = set()  # layers listed for their class: their own code is not listed twice
    stack: list[tuple[Any, str, str]] = [(config, "", "")]
    while stack:
        node, layer, key = stack.pop()
        if isinstance(node, dict):
            cfg = node.get("config")
            is_layer = isinstance(node.get("class_name"), str) and isinstance(cfg, dict) and "name" in cfg
            kind = _code_kind(node)
            if is_layer:
                assert isinstance(cfg, dict)
                layer, key = str(cfg["name"]), ""
            shown = ".".join(part for part in key.split(".") if part and part != "config")
            if kind is not None and not (shown == "" and not is_layer and layer in flagged):
                if shown:
                    found.append(f"{layer or 'model'}: {shown} ({kind})")
                else:
                    found.append(f"{layer} ({kind})")
                    flagged.add(layer)
            children = [
                (value, layer, name if is_layer or not key else f"{key}.{name}") for name, value in node.items()
            ]
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(reversed([(value, layer, key) for value in node]))
    return list(dict.fromkeys(found))


@dataclass
class LegacySlot:
    """Where one owner's tensors sit in its top-level layer's ``weight_names`` list."""

    owner: Owner
    indices: list[int] = field(default_factory=list)


def legacy_weight_order(owners: list[Owner]) -> list[LegacySlot] | None:
    """Attribute positions of a legacy group's tensors to owners: trainable weights first.

    Legacy ``.h5`` writes ``layer.trainable_weights + layer.non_trainable_weights`` per top-level
    layer; for a nested model or wrapper that concatenates over its sublayers, so a frozen
    sublayer's tensors move behind every trainable one. ``None`` if a count is unknown.
    """
    slots = [LegacySlot(owner) for owner in owners]
    trainable_part: list[tuple[LegacySlot, int]] = []
    frozen_part: list[tuple[LegacySlot, int]] = []
    for slot in slots:
        owner = slot.owner
        if owner.cell is not None:
            counts = (owner.cell.n_weights, 0)
        elif owner.counts is not None:
            counts = owner.counts
        else:
            return None
        if owner.trainable:
            trainable_part += [(slot, 1)] * counts[0]
            frozen_part += [(slot, 1)] * counts[1]
        else:
            frozen_part += [(slot, 1)] * (counts[0] + counts[1])
    for position, (slot, _) in enumerate(trainable_part + frozen_part):
        slot.indices.append(position)
    return slots
