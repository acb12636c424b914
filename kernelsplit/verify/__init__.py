"""``kernelsplit verify``: check kernelsplit against the user's own Keras, file by file.

For each file, real Keras (the optional extra ``kernelsplit[keras]``) loads it in a separate process
(``worker.py``; Keras 3 for Keras 3 files, tf-keras for the rest; ``safe_mode`` on, files with
executable layers refused unless the user trusts them) and reports, per recurrent layer, the
weights it holds and what it computes on a seeded random input. Here, without TensorFlow, each
Keras cell is matched to kernelsplit's layer holding the same gate blocks, every block's digest is
compared with kernelsplit's split, and the reference forward pass (``kernelsplit/forward.py``, with
the maths kernelsplit read from the file) is compared with Keras's own outputs.

Verdicts per file: ``ok``; ``mismatch`` (a block digest differs, the forward pass disagrees, or a
layer exists on one side only: exit 1); ``not-loaded`` (Keras cannot load the file, or it is
refused: exit 2); ``error`` (kernelsplit cannot read it: exit 2).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..api import try_open
from ..errors import KernelsplitError, UsageError
from ..exitcodes import ExitCode
from ..forward import bidirectional, forward
from ..layouts import CELL_LAYOUTS, CLASS_TO_KIND
from ..maths import Generation
from ..model import Artifact, ArtifactFormat, Failure, RecurrentLayer, array_sha256

INSTALL_HINT = "pip install 'kernelsplit[keras]'"
#: The Keras side, run as a script by the same Python (it imports nothing from kernelsplit).
WORKER = Path(__file__).with_name("worker.py")

#: Formats that hold weights without a model: Keras has nothing to load.
WEIGHTS_ONLY = {
    ArtifactFormat.H5_WEIGHTS,
    ArtifactFormat.KERAS3_WEIGHTS_H5,
    ArtifactFormat.KERAS3_SHARDED,
    ArtifactFormat.TF_CHECKPOINT,
    ArtifactFormat.H5_KERAS0,
}

#: Forward-pass tolerance against Keras, relative to max(1, |Keras's output|), by Keras's compute dtype.
#: Measured on the fixtures and the real-world corpus: float32 <= 8e-6, float16 7e-4, bfloat16 4.3e-3.
TOLERANCE = {"float64": 1e-9, "float32": 5e-5, "float16": 1e-2, "bfloat16": 5e-2}

#: Seconds the Keras process may take: a base plus this much per file.
TIMEOUT_BASE, TIMEOUT_PER_FILE = 180.0, 60.0


@dataclass
class BlockDifference:
    layer: str
    part: str
    gate: str
    kernelsplit_sha256: str | None
    keras_sha256: str | None


@dataclass
class LayerCheck:
    """One Keras recurrent layer (an RNN layer or a Bidirectional wrapper) against kernelsplit's layers."""

    keras_layer: str
    class_name: str
    kernelsplit_layers: list[str]
    blocks: int = 0
    differences: list[BlockDifference] = field(default_factory=list)
    #: max |reference forward pass - Keras| over the outputs (and states), None when not run.
    forward_error: float | None = None
    #: The bound ``forward_error`` must stay under (``TOLERANCE`` by dtype, times the output's scale).
    tolerance: float | None = None
    compute_dtype: str = "float32"
    problems: list[str] = field(default_factory=list)

    @property
    def bit_exact(self) -> bool:
        return self.blocks > 0 and not self.differences

    @property
    def ok(self) -> bool:
        return not self.problems and self.bit_exact and self.forward_error is not None


@dataclass
class FileCheck:
    path: str
    #: ``ok``, ``mismatch``, ``not-loaded`` or ``error``.
    status: str = "ok"
    #: Which Keras loaded (or was to load) the file: ``keras3`` or ``tf_keras``.
    framework: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    layers: list[LayerCheck] = field(default_factory=list)
    #: kernelsplit layers no Keras layer accounts for.
    unmatched: list[str] = field(default_factory=list)
    #: kernelsplit's own error, when it cannot read the file (status ``error``).
    failure: KernelsplitError | None = field(default=None, repr=False)

    @property
    def exit_code(self) -> ExitCode:
        if self.status in ("not-loaded", "error"):
            return ExitCode.ERROR
        return ExitCode.FINDINGS if self.status == "mismatch" else ExitCode.OK


@dataclass
class VerifyReport:
    files: list[FileCheck]
    seed: int

    @property
    def exit_code(self) -> ExitCode:
        codes = {f.exit_code for f in self.files}
        if ExitCode.ERROR in codes:
            return ExitCode.ERROR
        return ExitCode.FINDINGS if ExitCode.FINDINGS in codes else ExitCode.OK


# ----------------------------------------------------------------------------- which Keras, if any


def missing_keras(frameworks: set[str]) -> str | None:
    """What of TensorFlow / Keras 3 / tf-keras the files need and this Python lacks (None: nothing)."""
    needed = {"tensorflow": "TensorFlow"}
    if "keras3" in frameworks:
        needed["keras"] = "Keras 3"
    if "tf_keras" in frameworks:
        needed["tf_keras"] = "tf-keras"
    missing = [label for module, label in needed.items() if importlib.util.find_spec(module) is None]
    return ", ".join(missing) if missing else None


def framework_for(artifact: Artifact) -> str:
    """Keras 3 for files Keras 3 wrote (or a .keras whose writer is not recorded), else tf-keras."""
    writer = artifact.writer
    if writer is not None and writer.generation == Generation.KERAS3:
        return "keras3"
    if (
        writer is not None
        and writer.generation is None
        and artifact.format
        in (
            ArtifactFormat.KERAS_ZIP,
            ArtifactFormat.KERAS_DIR,
        )
    ):
        return "keras3"
    return "tf_keras"


def _refusal(artifact: Artifact, trust_code: bool) -> str | None:
    if artifact.format in WEIGHTS_ONLY:
        return "a weights-only file: it holds no model for Keras to load"
    if artifact.executable_layers and not trust_code:
        return (
            f"it has layers whose code Keras would run on load ({', '.join(artifact.executable_layers)}); "
            "pass --trust-code to load it anyway"
        )
    return None


# ------------------------------------------------------------------------------------- the worker


def run_keras(framework: str, paths: list[str], trust_code: bool, seed: int) -> tuple[dict[str, Any], Any]:
    """Run the Keras worker on ``paths``; its JSON answer and its arrays (an open npz)."""
    folder = Path(tempfile.mkdtemp(prefix="kernelsplit-verify-"))
    request = folder / "request.json"
    request.write_text(
        json.dumps({"framework": framework, "trust_code": trust_code, "seed": seed, "files": paths}), encoding="utf-8"
    )
    out = folder / "out"
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "KERAS_BACKEND": "tensorflow",
        "CUDA_VISIBLE_DEVICES": "",  # the CPU kernels: deterministic, and what the tolerances were measured on
        "TF_USE_LEGACY_KERAS": "0",
    }
    timeout = TIMEOUT_BASE + TIMEOUT_PER_FILE * len(paths)
    try:
        done = subprocess.run(
            [sys.executable, str(WORKER), str(request), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"failed": f"the Keras process did not finish within {timeout:.0f} s"}, None
    if done.returncode != 0 or not out.with_suffix(".json").exists():
        last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["no output"]
        return {"failed": f"the Keras process failed (exit {done.returncode}): {last[0][:500]}"}, None
    answer = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    with np.load(out.with_suffix(".npz"), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    return answer, arrays


# ------------------------------------------------------------------------------------ comparison


def _array(arrays: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
    return arrays[info["key"]]


def _values(arrays: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
    stored = _array(arrays, info)
    if info["dtype"] == "bfloat16":
        return (stored.astype("<u4") << 16).view("<f4")
    return stored


def keras_blocks(cell: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[tuple[str, str], str]:
    """(part, gate) -> digest of the block Keras holds, cut by the canonical layout (``layouts.py``)."""
    kind = CLASS_TO_KIND.get(cell["class_name"])
    weights = [_array(arrays, info) for info in cell["weights"]]
    if kind is None or len(weights) < 2:
        return {}
    recurrent = weights[1]
    units = int(recurrent.shape[-2])
    gates = CELL_LAYOUTS[kind].gates
    out: dict[tuple[str, str], str] = {}

    def cut(part: str, array: np.ndarray) -> None:
        for index, gate in enumerate(gates):
            out[(part, gate)] = array_sha256(array[..., index * units : (index + 1) * units])

    cut("kernel", weights[0])
    cut("recurrent_kernel", recurrent)
    if len(weights) > 2:
        bias = weights[2]
        if bias.ndim == 2:  # GRU reset_after rows, or CuDNN's two halves: input side, recurrent side
            cut("bias", bias[0])
            cut("recurrent_bias", bias[1])
        else:
            cut("bias", bias)
    return out


def _names(record: dict[str, Any], cell: dict[str, Any]) -> set[str]:
    """The names kernelsplit may give this cell (its Keras path, a direction or a stacked cell's name)."""
    base = record["path"]
    names = {base}
    if cell.get("direction"):
        names.add(f"{base}/{cell['direction']}")
    if len(record["cells"]) > 1 and not cell.get("direction") and cell.get("name"):
        names.add(f"{base}/{cell['name']}")
    return names


def _match(
    record: dict[str, Any], cell: dict[str, Any], blocks: dict[tuple[str, str], str], free: list[RecurrentLayer]
) -> RecurrentLayer | None:
    """kernelsplit's layer for a Keras cell: the one holding the same multiset of block digests (a gate
    order error keeps the multiset), preferring the right name; else by name alone."""
    wanted = Counter(blocks.values())
    names = _names(record, cell)
    same = [layer for layer in free if Counter(t.sha256 for t in layer.tensors) == wanted]
    named = [layer for layer in same if layer.name in names or any(layer.name.endswith("/" + n) for n in names)]
    if len(same) == 1 or named:
        return (named or same)[0]
    by_name = [layer for layer in free if layer.name in names or any(layer.name.endswith("/" + n) for n in names)]
    return by_name[0] if len(by_name) == 1 else None


def _forward_error(
    record: dict[str, Any], layers: list[RecurrentLayer], arrays: dict[str, np.ndarray]
) -> tuple[float, float]:
    """max |reference - Keras| over what the Keras layer returned, and the tolerance for it."""
    x = _values(arrays, record["input"]).astype(np.float64)
    want = [_array(arrays, info) for info in record["outputs"]]
    sequences = bool(record["return_sequences"])
    if record["class_name"] == "Bidirectional":
        result = bidirectional(layers[0], layers[1], x, merge_mode=record["merge_mode"], return_sequences=sequences)
    else:
        result = forward(layers if len(layers) > 1 else layers[0], x, return_sequences=sequences)
    got = list(result.output) if isinstance(result.output, list) else [result.output]
    if record.get("return_state"):
        got += result.states
    if len(got) != len(want):
        raise UsageError(f"Keras returned {len(want)} arrays, the reference {len(got)}")
    error, scale = 0.0, 1.0
    for mine, theirs in zip(got, want, strict=True):
        if mine.shape != theirs.shape:
            raise UsageError(f"Keras returned shape {theirs.shape}, the reference {mine.shape}")
        error = max(error, float(np.max(np.abs(mine - theirs))) if mine.size else 0.0)
        scale = max(scale, float(np.max(np.abs(theirs))) if theirs.size else 0.0)
    dtype = str(record.get("compute_dtype", "float32"))
    return error, TOLERANCE.get(dtype, TOLERANCE["float32"]) * scale


def compare(artifact: Artifact, answer: dict[str, Any], arrays: dict[str, np.ndarray]) -> FileCheck:
    """kernelsplit's reading of ``artifact`` against what Keras loaded and computed (one worker answer)."""
    check = FileCheck(path=artifact.path, versions=dict(answer.get("versions") or {}))
    free = list(artifact.layers)
    for record in answer["layers"]:
        layer_check = LayerCheck(record["path"], record["class_name"], [])
        check.layers.append(layer_check)
        matched: list[RecurrentLayer] = []
        for cell in record["cells"]:
            blocks = keras_blocks(cell, arrays)
            layer_check.blocks += len(blocks)
            mine = _match(record, cell, blocks, free)
            what = f"{record['path']}" + (f" ({cell['direction']})" if cell.get("direction") else "")
            if mine is None:
                layer_check.problems.append(f"kernelsplit reports no layer holding the weights of {what}")
                continue
            free.remove(mine)
            matched.append(mine)
            layer_check.kernelsplit_layers.append(mine.name)
            mine_blocks = {(str(t.part), t.gate): t.sha256 for t in mine.tensors}
            for key in sorted(set(blocks) | set(mine_blocks)):
                if blocks.get(key) != mine_blocks.get(key):
                    layer_check.differences.append(
                        BlockDifference(mine.name, key[0], key[1], mine_blocks.get(key), blocks.get(key))
                    )
        if layer_check.differences:
            layer_check.problems.append(
                f"{len(layer_check.differences)} of {layer_check.blocks} gate blocks differ from Keras's"
            )
        if len(matched) == len(record["cells"]):
            layer_check.compute_dtype = str(record.get("compute_dtype", "float32"))
            try:
                error, tolerance = _forward_error(record, matched, arrays)
            except KernelsplitError as exc:
                layer_check.problems.append(f"the reference forward pass refused: {exc.message}")
            else:
                layer_check.forward_error, layer_check.tolerance = error, tolerance
                if not error <= tolerance:  # NaN fails too
                    layer_check.problems.append(
                        f"the reference forward pass differs from Keras's output by {error:.3g} (> {tolerance:.3g})"
                    )
    check.unmatched = [layer.name for layer in free]
    if any(layer.problems for layer in check.layers) or check.unmatched:
        check.status = "mismatch"
    return check


# ------------------------------------------------------------------------------------------ verify


def verify(paths: list[str], *, trust_code: bool = False, seed: int = 0) -> VerifyReport:
    """Verify each file against the installed Keras (see the module docstring).

    Raises :class:`~kernelsplit.errors.UsageError` when TensorFlow or the Keras a file needs is not
    installed (install the ``kernelsplit[keras]`` extra).
    """
    checks: dict[str, FileCheck] = {}
    artifacts: dict[str, Artifact] = {}
    batches: dict[str, list[str]] = {}
    for path in paths:
        opened = try_open(path)
        if isinstance(opened, Failure):
            checks[path] = FileCheck(path, status="error", reason=opened.error.message, failure=opened.error)
            continue
        framework = framework_for(opened)
        refused = _refusal(opened, trust_code)
        if refused:
            checks[path] = FileCheck(path, status="not-loaded", framework=framework, reason=refused)
            continue
        checks[path] = FileCheck(path, framework=framework)
        artifacts[path] = opened
        batches.setdefault(framework, []).append(path)
    missing = missing_keras(set(batches)) if batches else None
    if missing:
        raise UsageError(f"verify loads files with real Keras, and {missing} is not installed: {INSTALL_HINT}")
    with ThreadPoolExecutor(max_workers=max(1, len(batches))) as pool:  # Keras 3 and tf-keras side by side
        running = {
            framework: pool.submit(run_keras, framework, [os.path.abspath(p) for p in batch], trust_code, seed)
            for framework, batch in batches.items()
        }
    for framework, batch in batches.items():
        answer, arrays = running[framework].result()
        for index, path in enumerate(batch):
            check = checks[path]
            if "failed" in answer:
                check.status, check.reason = "not-loaded", answer["failed"]
                continue
            one = answer["files"][index]
            if not one.get("loaded"):
                check.status, check.reason = "not-loaded", f"Keras cannot load it: {one.get('error')}"
                continue
            if one.get("error"):
                check.status, check.reason = "not-loaded", str(one["error"])
                continue
            result = compare(artifacts[path], one, arrays)
            result.framework = framework
            checks[path] = result
    return VerifyReport([checks[path] for path in paths], seed)
