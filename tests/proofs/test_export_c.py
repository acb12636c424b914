"""``export --format c`` headers compile and compute what Keras computes.

Each case exports one real fixture layer as a C header, compiles it with ``cc`` beside a small C
step function (tests/support/c/rnn_step.c, not part of kernelsplit) and a generated ``main``, runs
it on a seeded input and compares every step's output with kernelsplit's reference forward pass
(itself proved against Keras in test_forward_pass.py): LSTM, LSTM without bias, GRU with
reset_after True and False, SimpleRNN, go_backwards, hard_sigmoid in both generations (tf-keras
0.2·x, Keras 3 x/6), a float16 model.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from support.exporting import validate_manifest
from support.fixtures import open_cached
from support.paths import FIXTURES, REPO

from kernelsplit.analysis.select import Selection
from kernelsplit.export import export_artifact
from kernelsplit.export.writers import c_comment_text, c_identifier
from kernelsplit.model import RecurrentLayer

CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler (cc/gcc/clang) here: install gcc to run this proof")
STEP_C = REPO / "tests" / "support" / "c" / "rnn_step.c"

CASES = [
    ("tf_keras/zoo.h5", "my_lstm"),
    ("tf_keras/zoo.h5", "lstm_nobias"),
    ("tf_keras/zoo.h5", "lstm_acts"),  # relu / hard_sigmoid 0.2·x
    ("tf_keras/zoo.h5", "gru_ra_true"),
    ("tf_keras/zoo.h5", "gru_ra_false"),
    ("tf_keras/zoo.h5", "gru_back"),
    ("tf_keras/zoo.h5", "simple"),
    ("keras3/zoo.keras", "lstm_acts"),  # hard_sigmoid x/6
    ("keras3/float16.keras", "lp_lstm"),
]

C_ACTIVATIONS = {
    "tanh(x)": "ks_tanh",
    "1 / (1 + exp(-x))": "ks_sigmoid",
    "max(x, 0)": "ks_relu",
    "x": "ks_linear",
    "clip(0.2·x + 0.5, 0, 1)": "ks_hard_sigmoid_keras2",
    "relu6(x + 3) / 6 = clip(x/6 + 0.5, 0, 1)": "ks_hard_sigmoid_keras3",
}


def _activation(layer: RecurrentLayer, slot: str) -> str:
    from kernelsplit.maths import resolve

    name = getattr(layer.maths, slot).value
    assert layer.maths.writer is not None
    found = resolve(name, layer.maths.writer)
    assert found is not None
    return C_ACTIVATIONS[found.formula]


def _main_c(layer: RecurrentLayer, header: Path, keys: dict[tuple[str, str], str], swap: bool = False) -> str:
    units, input_dim = layer.units, layer.input_dim

    def blocks(part: str, gates: tuple[str, ...]) -> str:
        return (
            "{" + ", ".join(f"(const float *){keys[(part, g)]}" if (part, g) in keys else "NULL" for g in gates) + "}"
        )

    gates = layer.gates
    if swap:  # negative control: the f and c blocks taken for each other
        gates = tuple({"f": "c", "c": "f"}.get(g, g) for g in gates)
    act = _activation(layer, "activation")
    declare = (
        f"const float *const W[] = {blocks('kernel', gates)};\n"
        f"    const float *const U[] = {blocks('recurrent_kernel', gates)};\n"
        f"    const float *const b[] = {blocks('bias', gates)};\n"
        f"    const float *const rb[] = {blocks('recurrent_bias', gates)};\n"
        "    (void)W; (void)U; (void)b; (void)rb;"
    )
    head = f"{input_dim}, {units}, x, h"
    if layer.cell == "lstm":
        call = f"ks_lstm_step({head}, c, W, U, b, {act}, {_activation(layer, 'recurrent_activation')});"
    elif layer.cell == "gru":
        reset_after = int(bool(layer.maths.reset_after.value))
        call = f"ks_gru_step({head}, W, U, b, rb, {reset_after}, {act}, {_activation(layer, 'recurrent_activation')});"
    else:
        call = f"ks_simple_rnn_step({head}, W[0], U[0], b[0], {act});"
    backwards = int(bool(layer.maths.go_backwards.value))
    return f"""
#include <stdio.h>
#include "{STEP_C}"
#include "{header}"
static float xs[1 << 16];
int main(void) {{
    int batch, steps;
    if (scanf("%d %d", &batch, &steps) != 2) return 2;
    for (int k = 0; k < batch * steps * {input_dim}; ++k) if (scanf("%f", &xs[k]) != 1) return 3;
    {declare}
    for (int n = 0; n < batch; ++n) {{
        float h[{units}] = {{0}}, c[{units}] = {{0}};
        (void)c;
        for (int s = 0; s < steps; ++s) {{
            int t = {backwards} ? steps - 1 - s : s;
            const float *x = &xs[(n * steps + t) * {input_dim}];
            {call}
            for (int j = 0; j < {units}; ++j) printf("%.9g\\n", h[j]);
        }}
    }}
    return 0;
}}
"""


def _run(path: str, name: str, tmp_path: Path, swap: bool = False) -> float:
    """Export, compile, run; max |C - reference forward pass| over every step's output."""
    art = open_cached(str(FIXTURES / path))
    (layer,) = [one for one in art.layers if one.name == name]
    done = export_artifact(art, out=tmp_path / "out", fmt="c", selection=Selection(layers=(name,)))
    validate_manifest(done.manifest)
    (header_file,) = {record["file"] for record in done.manifest["arrays"]}
    keys = {(r["part"], r["gate"]): r["key"] for r in done.manifest["arrays"]}
    main = tmp_path / "main.c"
    main.write_text(_main_c(layer, tmp_path / "out" / header_file, keys, swap), encoding="ascii")
    program = tmp_path / "step"
    assert CC is not None
    flags = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wno-unused-function"]
    compiled = subprocess.run([CC, *flags, str(main), "-o", str(program), "-lm"], capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr
    x = np.random.default_rng(5).uniform(-1.5, 1.5, (2, 6, layer.input_dim or 1)).astype(np.float32)
    feed = f"{x.shape[0]} {x.shape[1]}\n" + "\n".join(repr(float(v)) for v in x.reshape(-1)) + "\n"
    ran = subprocess.run([str(program)], input=feed, capture_output=True, text=True, check=True)
    got = np.array([float(v) for v in ran.stdout.split()]).reshape(2, 6, layer.units)
    want = layer.forward(x, return_sequences=True).sequence
    assert isinstance(want, np.ndarray)
    return float(np.max(np.abs(got - want)))


@pytest.mark.parametrize(("path", "name"), CASES)
def test_compiled_header_computes_the_reference_forward_pass(path: str, name: str, tmp_path: Path) -> None:
    err = _run(path, name, tmp_path)
    assert err < 2e-5, f"max |C - reference| = {err:.3g}"


def test_the_comparison_can_fail(tmp_path: Path) -> None:
    """Negative control: the same program with the forget and candidate blocks taken for each other."""
    assert _run("tf_keras/zoo.h5", "my_lstm", tmp_path, swap=True) > 1e-2


def test_names_from_files_become_safe_identifiers_and_comments() -> None:
    assert c_identifier("bidi/forward", "kernel.f") == "bidi_forward_kernel_f"
    assert c_identifier("1st-layer", "weight_ih_l0") == "ks_1st_layer_weight_ih_l0"
    assert c_identifier("_x") == "x" and c_identifier("int") == "int"  # always prefixed by the group in use
    assert c_identifier("évil;{}()", "W") == "vil_W"
    hostile = "a */ int x = 1; /* ??/ \x1b[31m \u202e"
    text = c_comment_text(hostile)
    assert "*/" not in text and "/*" not in text and "??" not in text
    assert all(32 <= ord(ch) < 127 for ch in text)


def test_a_hostile_layer_name_cannot_escape_the_header(tmp_path: Path) -> None:
    """A name that tries to close the comment and inject code still compiles to the same arrays."""
    from dataclasses import replace

    art = open_cached(str(FIXTURES / "tf_keras" / "zoo.h5"))
    (layer,) = [one for one in art.layers if one.name == "simple"]
    evil = replace(layer, name="x */ #error injected /* \n#error line")
    hostile_art = replace(art, layers=[evil])
    done = export_artifact(hostile_art, out=tmp_path / "out", fmt="c")
    (header_file,) = {record["file"] for record in done.manifest["arrays"]}
    header = tmp_path / "out" / header_file
    text = header.read_text(encoding="ascii")
    assert "#error" in text  # the name is kept, inside the comment, harmlessly
    main = tmp_path / "main.c"
    main.write_text(f'#include "{header}"\nint main(void) {{ return 0; }}\n', encoding="ascii")
    assert CC is not None
    compiled = subprocess.run(
        [CC, "-std=c99", "-Wall", "-Werror", "-c", str(main), "-o", str(tmp_path / "m.o")],
        capture_output=True,
        text=True,
    )
    assert compiled.returncode == 0, compiled.stderr
