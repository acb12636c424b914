"""Running exports in the frameworks they target: torch modules and ONNX nodes.

onnxruntime runs every ONNX node because it honours the ``activations``/``activation_alpha``/
``activation_beta`` attributes; ``onnx.reference.ReferenceEvaluator`` silently ignores them for
LSTM and GRU, so it could not prove an activation mapping (docs/formats.md, "Other frameworks").
Nodes with ONNX's default activations run in the reference evaluator too (``runtime="reference"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: ONNX's default activations per operator (onnx.ai operator docs): what the reference evaluator computes.
DEFAULT_ACTIVATIONS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh"), "RNN": ("Tanh",)}


def has_default_activations(target: dict[str, Any]) -> bool:
    attributes = target["attributes"]
    activations = attributes.get("activations")
    if activations is None:
        return True
    default = DEFAULT_ACTIVATIONS[target["op_type"]]
    directions = 2 if attributes.get("direction") == "bidirectional" else 1
    return tuple(activations) == default * directions and not attributes.get("activation_alpha")


def run_onnx_node(
    target: dict[str, Any], arrays: dict[str, np.ndarray], x_btf: np.ndarray, runtime: str = "onnxruntime"
) -> tuple[np.ndarray, ...]:
    """Run one exported node on a batch-first input; returns (Y [T, D, B, H], Y_h [D, B, H])."""
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper

    names = target["inputs"]
    node = helper.make_node(target["op_type"], ["X", *names], ["Y", "Y_h"], **target["attributes"])
    feeds = {"X": np.ascontiguousarray(x_btf.transpose(1, 0, 2), dtype=np.float32)}
    feeds.update({n: np.asarray(arrays[n], dtype=np.float32) for n in names})
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape)) for n, v in feeds.items()],
        [
            helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, None, None, None]),
            helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [None, None, None]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    if runtime == "reference":
        from onnx.reference import ReferenceEvaluator

        assert has_default_activations(target), "the reference evaluator ignores activations"
        y, y_h = ReferenceEvaluator(model).run(None, feeds)
        return np.asarray(y), np.asarray(y_h)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    y, y_h = session.run(None, feeds)
    return np.asarray(y), np.asarray(y_h)


def build_torch_module(target: dict[str, Any], state: dict[str, np.ndarray]) -> Any:
    """The torch module the manifest names, with the exported state dict loaded strictly."""
    import torch

    modules = {"torch.nn.LSTM": torch.nn.LSTM, "torch.nn.GRU": torch.nn.GRU, "torch.nn.RNN": torch.nn.RNN}
    module = modules[target["module"]](**target["kwargs"]).double()
    module.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float64)) for k, v in state.items()}, strict=True)
    return module.eval()
