"""``explain``: every cell form and variant, bound to the file, in every format; what it shows is
exactly what the reference forward pass runs (and the forward pass is proved against Keras)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import jsonschema
import numpy as np
import pytest
from support.fixtures import open_cached
from support.memory import artifact, layer
from support.paths import FIXTURES, SCHEMAS

import kernelsplit.forward
from kernelsplit.analysis.classify import classify
from kernelsplit.analysis.explain import explain_artifact, explain_layer
from kernelsplit.analysis.split import split
from kernelsplit.equations import BLOCK_LETTERS
from kernelsplit.errors import UnknownMathsError
from kernelsplit.model import ArtifactFormat, RecurrentLayer
from kernelsplit.readers.base import StoredTensor, WeightGroup
from kernelsplit.render.explain import REPORTERS, render, reporter

SCHEMA = json.loads((SCHEMAS / "explain-1.json").read_text(encoding="utf-8"))
ALL_FIXTURES = sorted(
    str(p.parent / f["path"])
    for p in FIXTURES.glob("*/manifest.json")
    for f in json.loads(p.read_text(encoding="utf-8"))["files"]
)


def _layer(path: str, name: str) -> RecurrentLayer:
    found = [one for one in open_cached(str(FIXTURES / path)).layers if one.name == name]
    assert len(found) == 1, name
    return found[0]


def _text(one: RecurrentLayer) -> str:
    art = artifact("m.keras", one)
    return render(art, "text")


def _equations(one: RecurrentLayer) -> dict[str, str]:
    return {line.target: line.text for line in explain_layer(one).equations}


# ---------------------------------------------------------------------------- every form, bound


def test_lstm_equations_bind_every_term_to_its_slice() -> None:
    lstm = _layer("tf_keras/zoo.h5", "my_lstm")
    ex = explain_layer(lstm)
    assert ex.form == "lstm"
    assert _equations(lstm) == {
        "i_t": "sigmoid(x_t·W_i + h_{t-1}·U_i + b_i)",
        "f_t": "sigmoid(x_t·W_f + h_{t-1}·U_f + b_f)",
        "g_t": "tanh(x_t·W_c + h_{t-1}·U_c + b_c)",
        "c_t": "f_t ⊙ c_{t-1} + i_t ⊙ g_t",
        "o_t": "sigmoid(x_t·W_o + h_{t-1}·U_o + b_o)",
        "h_t": "o_t ⊙ tanh(c_t)",
    }
    terms = {term.symbol: term for term in ex.terms}
    assert len(terms) == 12
    for term in ex.terms:
        tensor = lstm.tensor(term.part, term.gate)
        assert (term.stored_path, term.selection, term.sha256, term.shape) == (
            tensor.stored_path,
            tensor.selection,
            tensor.sha256,
            tensor.shape,
        )
    assert terms["W_f"].selection == "[:, 4:8]" and terms["b_f"].selection == "[4:8]"
    assert terms["W_f"].stored_path.endswith("lstm_cell/kernel:0")


def test_gru_both_bias_styles() -> None:
    after = _equations(_layer("keras3/zoo.keras", "gru_ra_true"))
    before = _equations(_layer("keras3/zoo.keras", "gru_ra_false"))
    assert after["n_t"] == "tanh(x_t·W_h + b_h + r_t ⊙ (h_{t-1}·U_h + br_h))"
    assert after["z_t"] == "sigmoid(x_t·W_z + h_{t-1}·U_z + b_z + br_z)"
    assert before["n_t"] == "tanh(x_t·W_h + b_h + (r_t ⊙ h_{t-1})·U_h)"
    assert before["h_t"] == after["h_t"] == "z_t ⊙ h_{t-1} + (1 - z_t) ⊙ n_t"
    br = next(t for t in explain_layer(_layer("keras3/zoo.keras", "gru_ra_true")).terms if t.symbol == "br_h")
    assert br.selection == "[1, 6:9]"  # row 1 of the (2, 3u) bias


def test_gru_without_bias_or_config_shows_both_forms_under_their_conditions() -> None:
    rng = np.random.default_rng(0)
    tensors = [
        StoredTensor(rng.normal(size=s).astype(np.float32), f"g/{k}", "float32") for k, s in enumerate([(2, 9), (3, 9)])
    ]
    (spec,) = classify(WeightGroup("g", tensors), ArtifactFormat.H5_WEIGHTS)
    gru = split(spec)
    ex = explain_layer(gru)
    assert ex.form == "gru-reset-unknown"
    conditions = [(line.target, line.condition) for line in ex.equations if line.condition]
    assert conditions == [("n_t", "reset_after=False"), ("n_t", "reset_after=True")]
    text = _text(gru)
    assert "[reset_after=True] n_t = activation?(x_t·W_h + r_t ⊙ h_{t-1}·U_h)" in text
    assert "recurrent_activation unknown" in text
    with pytest.raises(UnknownMathsError):
        gru.forward(np.zeros((1, 2, 2)))


def test_simple_rnn_convlstm_and_no_bias() -> None:
    assert _equations(_layer("keras3/zoo.keras", "simple")) == {"h_t": "tanh(x_t·W_h + h_{t-1}·U_h + b_h)"}
    no_bias = explain_layer(_layer("keras3/zoo.keras", "lstm_nobias"))
    assert all(term.part != "bias" for term in no_bias.terms) and "use_bias=False" in " ".join(no_bias.notes)
    assert no_bias.equations[0].text == "sigmoid(x_t·W_i + h_{t-1}·U_i)"
    conv = explain_layer(_layer("keras3/convlstm1d.keras", "c1_valid_s2"))
    assert conv.equations[0].text == "sigmoid(x_t∗W_i + h_{t-1}∗U_i + b_i)"
    assert conv.convolution is not None and "strides 2, padding valid" in conv.convolution


def test_bidirectional_go_backwards_and_merge_mode() -> None:
    back = explain_layer(_layer("keras3/zoo.keras", "bidi/backward"))
    assert back.bidirectional is not None and back.bidirectional["wrapper"] == "bidi"
    assert back.bidirectional["formula"].startswith("y_t = [h→_t ; h←_t]")
    assert "go_backwards" in back.sequence and "T … 1" in back.sequence
    assert "flips this direction's outputs back" in back.bidirectional["how"]


def test_cudnn_fixed_maths_and_two_bias_halves() -> None:
    ex = explain_layer(_layer("legacy/cudnn.h5", "cu_lstm"))
    assert ex.equations[0].text == "sigmoid(x_t·W_i + h_{t-1}·U_i + b_i + br_i)"
    assert {use.slot: use.origin for use in ex.activations} == {"recurrent_activation": "class", "activation": "class"}
    terms = {term.symbol: term for term in ex.terms}
    assert terms["br_i"].selection == "[16:20]" and "recurrent-side half" in str(terms["br_i"].conversion)
    assert "row-major (units, input)" in str(terms["W_i"].conversion)
    assert ex.storage is not None and "CuDNN" in ex.storage


def test_keras1_storage_order_and_keras3_reload_trap() -> None:
    ex = explain_layer(_layer("legacy/k1_tf.h5", "lstm_1"))
    assert ex.storage is not None and "stored in the order i, c, f, o" in ex.storage
    terms = {term.symbol: term for term in ex.terms}
    assert terms["W_f"].selection == "" and terms["W_f"].stored_path.endswith("_W_f:0")
    (hard,) = [use for use in ex.activations if use.name == "hard_sigmoid"]
    assert (
        hard.formula == "clip(0.2·x + 0.5, 0, 1)" and hard.keras3_formula is not None and "x/6" in hard.keras3_formula
    )
    assert "Keras 3 would load this layer and compute" in _text(_layer("legacy/k1_tf.h5", "lstm_1"))
    th = explain_layer(_layer("legacy/k1_convlstm_th.h5", "convlstm2d_1"))
    assert "dim_ordering='th'" in str(th.terms[0].conversion)


def test_weights_only_maths_is_shown_as_unknown_never_filled_in() -> None:
    ex = explain_layer(_layer("keras3/zoo.weights.h5", "lstm"))
    assert ex.equations[0].text == "recurrent_activation?(x_t·W_i + h_{t-1}·U_i + b_i)"
    assert not any(use.known for use in ex.activations)
    assert not ex.facts["go_backwards"].known and "go_backwards unknown" in ex.sequence


@pytest.mark.parametrize("path", ALL_FIXTURES)
def test_explain_shows_exactly_what_the_forward_pass_runs(path: str) -> None:
    """The equations explain prints are the forward pass's own (proved against Keras in tests/proofs)."""
    art = open_cached(path)
    for one in art.layers:
        shown = [line.expression for line in explain_layer(one).equations]
        try:
            run = kernelsplit.forward.program(one)
        except UnknownMathsError:
            continue
        assert shown == [equation.expr for equation in run.form.equations], one.name
        symbols = {f"{BLOCK_LETTERS[part]}_{gate}" for part, gate in run.blocks}
        assert {t.symbol for t in explain_layer(one).terms} == symbols, one.name


# ----------------------------------------------------------------------------------- formats


@pytest.mark.parametrize("path", ALL_FIXTURES)
def test_every_format_renders_every_fixture_and_json_fits_the_schema(path: str) -> None:
    art = open_cached(path)
    document = json.loads(render(art, "json"))
    jsonschema.validate(document, SCHEMA)
    for layer_doc, one in zip(document["artifacts"][0]["layers"], art.layers, strict=True):
        for term in layer_doc["terms"]:
            assert term["sha256"] == one.tensor(term["part"], term["gate"]).sha256
    for fmt in REPORTERS:
        assert render(art, fmt).strip()


def test_hostile_names_cannot_reach_the_terminal_or_break_markdown() -> None:
    hostile = layer("evil\x1b[31m`|x\u202e", hyper={"activation": "tanh", "recurrent_activation": "sigmoid"})
    hostile = replace(hostile, tensors=[replace(t, stored_path="p\x07ath`` | */") for t in hostile.tensors])
    art = artifact("m\x1b]0;x.keras", hostile)
    text = render(art, "text")
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b" in text
    markdown = render(art, "markdown")
    assert "\x1b" not in markdown
    table_rows = [row for row in markdown.splitlines() if row.startswith("| `W_i`")]
    assert table_rows and all(row.count(" | ") == 6 for row in table_rows)  # the pipe in the path is escaped
    jsonschema.validate(json.loads(render(art, "json")), SCHEMA)


def test_reporter_batches_artifacts_and_failures() -> None:
    from kernelsplit.errors import CorruptFileError
    from kernelsplit.model import Failure

    stream = io.StringIO()
    chosen = reporter("json", stream)
    good = artifact("a.keras", layer("enc"))
    chosen.add(good, explain_artifact(good))
    chosen.add(Failure("bad.h5", CorruptFileError("truncated")), [])
    chosen.finish()
    document: dict[str, Any] = json.loads(stream.getvalue())
    jsonschema.validate(document, SCHEMA)
    assert [a["error"] for a in document["artifacts"]] == [None, {"code": "corrupt", "message": "truncated"}]
