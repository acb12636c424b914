"""The HTML report opened offline in a real headless browser (Chromium, driven over DevTools).

The report of every fixture kind (LSTM, GRU both bias styles, SimpleRNN, ConvLSTM, Bidirectional,
CuDNN, Keras 1) plus a file with a hostile config string is loaded from disk; in the page we find the
tables, decode every image, follow every table-of-contents link, and check that the page ran no
script and asked for nothing but itself and its ``data:`` images.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.browser import find_chromium, open_page
from support.paths import FIXTURES

from kernelsplit.cli import cli

pytest.importorskip("matplotlib", reason="the report's figures need the plot extra (pip install 'kernelsplit[plot]')")

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH: .ci/run installs Debian's chromium (apt-get install chromium); "
    "install it to open the HTML report in a real browser",
)

HOSTILE = '<img src=x onerror=alert(1)><script>document.title="pwned"</script>'

PAGE_PROBE = """(async () => {
  const images = [...document.images];
  const decoded = await Promise.all(images.map(img => img.decode()
      .then(() => ({ok: true, width: img.naturalWidth, height: img.naturalHeight,
                    declared: [+img.getAttribute('width'), +img.getAttribute('height')], src: img.src.slice(0, 22)}))
      .catch(error => ({ok: false, error: String(error), src: img.src.slice(0, 40)}))));
  const tables = {};
  for (const table of document.querySelectorAll('table')) {
    tables[table.className] = (tables[table.className] || 0) + 1;
  }
  const links = [...document.querySelectorAll('nav.toc a')].map(a => a.getAttribute('href'));
  return {
    title: document.title,
    images: decoded,
    tables,
    gateRows: document.querySelectorAll('table.gates tbody tr').length,
    links,
    broken: links.filter(href => !href.startsWith('#') || !document.getElementById(href.slice(1))),
    layers: [...document.querySelectorAll('section.layer > h3')].map(h => h.textContent),
    scripts: document.scripts.length,
    findingSections: [...document.querySelectorAll('section.artifact > h3')]
        .filter(h => h.textContent === 'Check findings').length,
    hostileText: [...document.querySelectorAll('table.maths td')]
        .some(td => td.textContent.includes('onerror=alert(1)')),
  };
})()"""


def hostile_copy(folder: Path) -> Path:
    import h5py

    path = folder / "hostile.h5"
    shutil.copy(FIXTURES / "tf_keras" / "zoo.h5", path)
    with h5py.File(path, "r+") as h5:
        config = json.loads(h5.attrs["model_config"])
        layer = next(la for la in config["config"]["layers"] if la["config"].get("name") == "my_lstm")
        layer["config"]["activation"] = HOSTILE
        h5.attrs["model_config"] = json.dumps(config)
    return path


def test_report_opens_offline_with_every_table_image_and_link(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    models = [
        FIXTURES / "keras3" / "zoo.keras",
        FIXTURES / "keras3" / "convlstm2d.keras",
        FIXTURES / "legacy" / "cudnn.h5",
        FIXTURES / "legacy" / "k1_th.h5",
        hostile_copy(tmp_path),
    ]
    # Bidirectional: the CuDNN GRU's two directions. The hostile copy of zoo.h5 brings 4 more layers.
    layers = ("my_lstm", "gru_ra_*", "simple", "c2_same", "cu_lstm", "bidi_cugru/*", "lstm_1")
    selection = [arg for name in layers for arg in ("--layer", name)]
    report = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", *map(str, models), *selection, "-o", str(report)])
    assert result.exit_code == 0, result.stderr

    with open_page(report, tmp_path / "profile", CHROMIUM) as page:
        found = page.evaluate(PAGE_PROBE)
        requested = page.requested_urls()
        logged = page.log_entries()

    expected_layers = 4 + 1 + 3 + 1 + 4  # zoo.keras, convlstm2d, cudnn, k1_th, the hostile copy
    assert found["title"] == "kernelsplit report"  # the hostile <script> never ran
    assert found["scripts"] == 0
    assert len(found["layers"]) == expected_layers
    assert found["tables"]["gates"] == expected_layers and found["tables"]["maths"] == expected_layers
    assert found["findingSections"] == len(models) and found["tables"]["findings"] >= 2  # zoo: KS110 (Lambda)
    assert found["gateRows"] > 100
    assert found["hostileText"]  # shown as text, not as markup
    images = found["images"]
    assert len(images) == 2 * expected_layers
    failed = [image for image in images if not image["ok"] or image["width"] == 0]
    assert not failed, failed
    assert all(image["src"].startswith("data:image/png;base64") for image in images)
    assert all([image["width"], image["height"]] == image["declared"] for image in images)
    assert len(found["links"]) == len(models) + expected_layers and found["broken"] == []
    assert requested and all(url.startswith(("file://", "data:")) for url in requested), requested[:3]
    assert not [entry for entry in logged if entry.get("level") in ("error", "warning")], logged
