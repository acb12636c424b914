"""The figures of every fixture kind, asserted from matplotlib's figure objects (not from pixels).

Panel layout (part rows in PARTS order, gate columns in the layout's order), what each panel draws
(the block, its strip or its ConvLSTM mosaic, cell for cell) and each part's symmetric colour scale
are checked against numpy computations on the blocks kernelsplit read from real Keras files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from support.fixtures import open_cached
from support.memory import artifact, layer
from support.paths import FIXTURES

from kernelsplit.analysis.classify import classify
from kernelsplit.analysis.diff import diff_artifacts
from kernelsplit.analysis.split import split
from kernelsplit.layouts import PARTS
from kernelsplit.model import ArtifactFormat, RecurrentLayer
from kernelsplit.readers.base import LayerDescription, StoredTensor, WeightGroup

pytest.importorskip("matplotlib", reason="the figures need the plot extra (pip install 'kernelsplit[plot]')")

from matplotlib.patches import StepPatch

from kernelsplit.render.plot import figures
from kernelsplit.render.plot.data import MAX_CELLS, as_grid_source

#: (file, layer name): every kind of cell and storage the figures must handle.
KINDS = {
    "lstm": ("keras3/zoo.keras", "my_lstm"),
    "gru-reset-after": ("keras3/zoo.keras", "gru_ra_true"),
    "gru-single-bias": ("keras3/zoo.keras", "gru_ra_false"),
    "simple-rnn": ("keras3/zoo.keras", "simple"),
    "bidirectional-forward": ("tf_keras/zoo.h5", "bidi/forward"),
    "bidirectional-backward": ("tf_keras/zoo.h5", "bidi/backward"),
    "convlstm1d": ("keras3/convlstm1d.keras", "c1_valid_s2"),
    "convlstm2d": ("keras3/convlstm2d.keras", "c2_same"),
    "convlstm3d": ("keras3/convlstm3d.keras", "c3_same"),
    "cudnn-lstm": ("legacy/cudnn.h5", "cu_lstm"),
    "cudnn-gru-bidirectional": ("legacy/cudnn.h5", "bidi_cugru/forward"),
    "keras1-lstm": ("legacy/k1_th.h5", "lstm_1"),
}


def fixture_layer(kind: str) -> tuple[str, RecurrentLayer]:
    path, name = KINDS[kind]
    found = open_cached(str(FIXTURES / path))
    return str(FIXTURES / path), next(candidate for candidate in found.layers if candidate.name == name)


def axes_by_label(figure: Any) -> dict[str, Any]:
    return {ax.get_label(): ax for ax in figure.axes if ax.get_label()}


def part_limit(layer: RecurrentLayer, part: str) -> float:
    """The expected ± of a part's colour scale: the largest finite |value| over its gate blocks."""
    values = np.concatenate([np.asarray(t.array, np.float64).ravel() for t in layer.tensors if t.part == part])
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_heatmap_panels_and_colour_scales(kind: str) -> None:
    path, found = fixture_layer(kind)
    figure = figures.heatmap_figure(found, found.tensors, source=path)
    panels = axes_by_label(figure)
    parts = [p for p in PARTS if any(t.part == p for t in found.tensors)]
    if kind == "gru-reset-after" or kind.startswith("cudnn"):
        assert parts == ["kernel", "recurrent_kernel", "bias", "recurrent_bias"]
    if kind == "gru-single-bias":
        assert parts == ["kernel", "recurrent_kernel", "bias"]

    assert set(panels) == {f"{t.part}:{t.gate}" for t in found.tensors} | {f"colorbar:{p}" for p in parts}
    for row, part in enumerate(parts):
        limit = part_limit(found, part)
        boxes = [panels[f"{part}:{gate}"].get_position() for gate in found.gates]
        # Gates side by side in the layout's order, one row per part, parts top to bottom.
        assert [b.x0 for b in boxes] == sorted(b.x0 for b in boxes) and len({round(b.x0, 6) for b in boxes}) == len(
            boxes
        )
        assert len({round(b.y0, 6) for b in boxes}) == 1
        if row:
            above = panels[f"{parts[row - 1]}:{found.gates[0]}"].get_position()
            assert boxes[0].y1 < above.y0
        for gate in found.gates:
            ax = panels[f"{part}:{gate}"]
            tensor = found.tensor(part, gate)
            (image,) = ax.images
            expected, _ = as_grid_source(np.asarray(tensor.array))
            assert np.array_equal(np.asarray(image.get_array(), dtype=np.float64), expected.astype(np.float64))
            assert (image.norm.vmin, image.norm.vmax) == pytest.approx((-limit, limit))
            title = ax.get_title(loc="left")
            assert gate in title and "×".join(map(str, tensor.shape)) in title
        bar = panels[f"colorbar:{part}"]
        assert bar.get_ylim() == pytest.approx((-limit, limit))
    header = figure.texts[0].get_text()
    assert found.name in header and found.class_name in header and f"units={found.units}" in header
    if found.direction:
        assert f"direction={found.direction}" in header
    if found.conversion:
        assert f"converted from {found.conversion}" in header
    if found.cell == "conv_lstm":
        assert any("ConvLSTM mosaic" in t.get_text() for t in figure.texts)
    png = figures.render(figure)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("kind", ["lstm", "gru-reset-after", "simple-rnn", "convlstm2d", "cudnn-lstm"])
def test_distribution_overlays_every_gate_per_part(kind: str) -> None:
    path, found = fixture_layer(kind)
    figure = figures.distribution_figure(found, found.tensors, source=path, log_count=True, spectra=True)
    panels = axes_by_label(figure)
    for part in {str(t.part) for t in found.tensors}:
        ax = panels[f"distribution:{part}"]
        steps = [patch for patch in ax.patches if isinstance(patch, StepPatch)]
        assert len(steps) == len(found.gates)
        limit = part_limit(found, part)
        assert ax.get_xlim() == pytest.approx((-limit, limit))
        assert ax.get_yscale() == "log"
        for step, gate in zip(steps, found.gates, strict=True):
            counts, edges, _ = step.get_data()
            block = np.asarray(found.tensor(part, gate).array, dtype=np.float64)
            assert counts.sum() == np.isfinite(block).sum()
            assert (edges[0], edges[-1]) == pytest.approx((-limit, limit))
    spectra = panels["spectra"]
    if found.cell == "conv_lstm":
        assert not spectra.lines  # no square u×u block: the panel says why
        assert "not a square" in " ".join(t.get_text() for t in spectra.texts)
    else:
        assert len(spectra.lines) == len(found.gates)
        for line, gate in zip(spectra.lines, found.gates, strict=True):
            block = np.asarray(found.tensor("recurrent_kernel", gate).array, dtype=np.float64)
            assert np.allclose(line.get_ydata(), np.linalg.svd(block, compute_uv=False))


def test_log_count_tick_labels_are_typeset_and_file_text_is_not() -> None:
    """Only text from files is kept out of mathtext: the log axis's 10^k labels must still render."""
    _, found = fixture_layer("lstm")
    figure = figures.distribution_figure(found, found.tensors, log_count=True)
    figures.render(figure)  # tick labels exist once drawn
    labels = axes_by_label(figure)["distribution:kernel"].get_yticklabels()
    math = [label for label in labels if "$" in label.get_text()]
    assert math and all(label.get_parse_math() for label in math)
    assert figure.texts[0].get_parse_math() is False  # the header: layer name and path


def test_distribution_without_log_count_or_spectra() -> None:
    _, found = fixture_layer("lstm")
    panels = axes_by_label(figures.distribution_figure(found, found.tensors))
    assert panels["distribution:kernel"].get_yscale() == "linear"
    assert "spectra" not in panels


def built(name: str, class_name: str, *arrays: np.ndarray) -> RecurrentLayer:
    """A layer from the given fused arrays, classified and split as a reader's output would be."""
    tensors = [StoredTensor(a, f"{name}/{i}", str(a.dtype)) for i, a in enumerate(arrays)]
    (spec,) = classify(
        WeightGroup(name, tensors, LayerDescription(class_name, class_name, {})), ArtifactFormat.KERAS_ZIP
    )
    return split(spec)


def big_layer(units: int = 600) -> RecurrentLayer:
    rng = np.random.default_rng(3)
    kernel, recurrent = (rng.normal(size=(units, 4 * units)).astype(np.float32) for _ in range(2))
    recurrent[min(100, units - 1), units + min(200, units - 1)] = 1e3  # one exploded weight in U_f
    return built("big", "LSTM", kernel, recurrent, np.zeros(4 * units, np.float32))


def test_large_blocks_are_pooled_and_the_figure_says_so() -> None:
    found = big_layer()
    figure = figures.heatmap_figure(found, found.tensors)
    panels = axes_by_label(figure)
    for tensor in found.tensors:
        (image,) = panels[f"{tensor.part}:{tensor.gate}"].images
        assert max(image.get_array().shape) <= MAX_CELLS  # never hand matplotlib the full block
        assert "→" in panels[f"{tensor.part}:{tensor.gate}"].get_title(loc="left")
    assert any("max-|w| pooled" in t.get_text() for t in figure.texts)
    # The exploded weight sets the recurrent scale and is circled where it is.
    ax = panels["recurrent_kernel:f"]
    assert ax.images[0].norm.vmax == pytest.approx(1e3)
    circles = [line for line in ax.lines if line.get_marker() == "o"]
    assert circles
    row, column = circles[0].get_ydata()[0], circles[0].get_xdata()[0]
    assert abs(row - 100) < 3 and abs(column - 200) < 3
    assert all(not a.lines for label, a in panels.items() if label.startswith("kernel:"))  # nothing to circle


def test_spectra_are_skipped_above_the_limit_and_say_so() -> None:
    found = big_layer(40)
    panels = axes_by_label(figures.distribution_figure(found, found.tensors, spectra=True, spectra_max_units=16))
    assert not panels["spectra"].lines
    assert "u=40 > 16" in " ".join(t.get_text() for t in panels["spectra"].texts)


def test_diff_figure_draws_new_minus_old_per_gate() -> None:
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=shape).astype(np.float32) for shape in ((2, 12), (4, 12), (12,))]
    old = built("enc", "GRU", *arrays)
    changed = arrays[0].copy()
    changed[0, 4 + 1] += 0.5  # W_r[0, 1]
    new = built("enc", "GRU", changed, *arrays[1:])
    report = diff_artifacts(artifact("old.keras", old), artifact("new.keras", new))
    (change,) = report.layers
    figure = figures.diff_figure(change, old, new)
    panels = axes_by_label(figure)
    delta = np.asarray(panels["kernel:r"].images[0].get_array())
    expected = np.zeros_like(delta)
    expected[0, 1] = 0.5
    assert np.allclose(delta, expected)
    assert panels["kernel:r"].images[0].norm.vmax == pytest.approx(0.5)
    assert "identical" in panels["kernel:z"].get_title(loc="left")
    assert "rel" in panels["kernel:r"].get_title(loc="left")


def test_hostile_names_are_drawn_literally() -> None:
    name = "<b>$\\frac{1}{0}$</b>\x1b[31m\u202e"
    found = layer(name, "LSTM", units=3)
    figure = figures.heatmap_figure(found, found.tensors, source="m$x$.keras")
    header = figure.texts[0].get_text()
    assert "$\\frac{1}{0}$" in header and "\\x1b[31m\\u202e" in header and "m$x$.keras" in header
    assert figures.render(figure).startswith(b"\x89PNG")
    assert figures.render(figures.distribution_figure(found, found.tensors), "svg").startswith(b"<?xml")


def test_rendering_is_deterministic() -> None:
    _, found = fixture_layer("gru-reset-after")
    first = figures.render(figures.heatmap_figure(found, found.tensors), "svg")
    second = figures.render(figures.heatmap_figure(found, found.tensors), "svg")
    assert first == second
    png = figures.heatmap_figure(found, found.tensors)
    assert figures.render(png) == figures.render(png)
    assert figures.pixel_size(png) == tuple(round(v * figures.DPI) for v in png.get_size_inches())


def test_diff_figure_across_cell_kinds_keeps_every_block() -> None:
    rng = np.random.default_rng(4)
    old = built("enc", "LSTM", *(rng.normal(size=s).astype(np.float32) for s in ((2, 12), (3, 12), (12,))))
    new = built("enc", "GRU", *(rng.normal(size=s).astype(np.float32) for s in ((2, 9), (3, 9), (9,))))
    report = diff_artifacts(artifact("old.keras", old), artifact("new.keras", new))
    (change,) = report.layers
    panels = axes_by_label(figures.diff_figure(change, old, new))
    assert {label.split(":")[1] for label in panels if not label.startswith("colorbar")} == set("zrhifco")
    assert "block removed" in " ".join(t.get_text() for t in panels["kernel:f"].texts)
    assert "block added" in " ".join(t.get_text() for t in panels["kernel:z"].texts)
