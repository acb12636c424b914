"""``plot``, ``report``, ``diff --plot`` and ``inspect --histogram`` through click, on real fixtures.

File names, exit codes, the one-figure rule for ``-o FILE``, the HTML report's content and
escaping, and what happens without matplotlib (exit 2 with the install command).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.paths import FIXTURES

from kernelsplit.cli import cli

ZOO = FIXTURES / "keras3" / "zoo.keras"
RULES = FIXTURES / "rules"
needs_matplotlib = pytest.mark.skipif(
    __import__("importlib").util.find_spec("matplotlib") is None,
    reason="the figures need the plot extra (pip install 'kernelsplit[plot]')",
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------------------------------- plot


@needs_matplotlib
def test_plot_writes_both_figures_per_layer_into_a_folder(tmp_path: Path) -> None:
    status, out, err = run("plot", str(ZOO), "--layer", "bidi/*", "--layer", "my_lstm", "-o", "pics")
    assert status == 0, err
    names = sorted(p.name for p in (tmp_path / "pics").iterdir())
    assert names == sorted(
        f"{layer}-{kind}.png"
        for layer in ("my_lstm", "bidi_forward", "bidi_backward")
        for kind in ("heatmap", "distribution")
    )
    assert sorted(out.split()) == sorted(str(Path("pics") / name) for name in names)  # the files, on stdout
    for name in names:
        assert (tmp_path / "pics" / name).read_bytes().startswith(b"\x89PNG")


@needs_matplotlib
def test_plot_default_folder_and_svg(tmp_path: Path) -> None:
    status, out, err = run("plot", str(ZOO), "--layer", "simple", "--figure", "heatmap", "--image-format", "svg")
    assert status == 0, err
    written = tmp_path / "zoo-plots" / "simple-heatmap.svg"
    assert out.strip() == str(Path("zoo-plots") / "simple-heatmap.svg")
    assert written.read_bytes().startswith(b"<?xml")


@needs_matplotlib
def test_plot_one_figure_to_a_named_file(tmp_path: Path) -> None:
    status, _, err = run(
        "plot", str(ZOO), "--layer", "gru_ra_true", "--figure", "distribution", "--spectra", "-o", "g.png"
    )
    assert status == 0, err
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "my_lstm", "-o", "one.png"], "makes 2 figures"),
        (["-o", "x.jpg"], "cannot write .jpg images"),
        (["--layer", "my_lstm", "--figure", "heatmap", "-o", "x.png", "--image-format", "svg"], "contradicts"),
        (["--layer", "nothing_like_this"], "no layer, gate or part matches"),
        (["--gate", "q"], "unknown gate"),
    ],
)
@needs_matplotlib
def test_plot_usage_errors_exit_2_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    status, _, err = run("plot", str(ZOO), *args)
    assert status == 2 and message in err
    assert err.startswith("kernelsplit: error:") and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


@needs_matplotlib
def test_plot_of_an_unreadable_file_is_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    status, _, err = run("plot", str(bad))
    assert status == 2 and err.count("\n") == 1 and str(bad) in err


@needs_matplotlib
def test_plot_of_a_model_without_recurrent_layers_warns(tmp_path: Path) -> None:
    status, out, err = run("plot", str(FIXTURES / "keras3" / "dense_only.keras"))
    assert status == 0 and out == "" and "no recurrent layers" in err


# ------------------------------------------------------------------------------------------- diff


@needs_matplotlib
def test_diff_plot_writes_one_figure_per_changed_layer(tmp_path: Path) -> None:
    status, out, err = run(
        "diff", str(RULES / "healthy.keras"), str(RULES / "finetuned.keras"), "--format", "json", "--plot", "d/"
    )
    assert status == 0
    json.loads(out)  # stdout still holds only the report
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["dec-diff.png", "enc-diff.png"]
    assert "wrote" in err


@needs_matplotlib
def test_diff_plot_to_one_file_refuses_two_changed_layers_before_any_output(tmp_path: Path) -> None:
    status, out, err = run("diff", str(RULES / "healthy.keras"), str(RULES / "finetuned.keras"), "--plot", "d.png")
    assert status == 2 and "makes 2 figures" in err
    assert out == "" and not (tmp_path / "d.png").exists()


@needs_matplotlib
def test_diff_plot_of_identical_artifacts_draws_nothing(tmp_path: Path) -> None:
    status, _, err = run("diff", str(RULES / "healthy.h5"), str(RULES / "healthy.keras"), "--plot", "d.png")
    assert status == 0 and "nothing to plot" in err
    assert not (tmp_path / "d.png").exists()


# ------------------------------------------------------------------------------------------ report


@needs_matplotlib
def test_report_holds_summary_maths_findings_and_figures(tmp_path: Path) -> None:
    status, _, err = run("report", str(RULES / "nan.keras"), str(FIXTURES / "legacy" / "cudnn.h5"), "-o", "r.html")
    assert status == 0, err
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count('<table class="gates">') == 6  # 2 + 4 layers
    assert html.count('<table class="maths">') == 6
    assert html.count('<pre class="explain">') == 6  # explain's equations, bound to the file
    assert "h_t = " in html and "c_t = " in html and "U_f" in html
    explained = html.split('<pre class="explain">')[1].split("</pre>")[0]
    assert explained.count("\n") > 5 and "\\x0a" not in explained  # one equation a line
    assert html.count('src="data:image/png;base64,') == 12
    assert "KS101" in html  # the NaN finding
    assert 'href="#a1-l1"' in html and 'id="a1-l1"' in html and 'href="#a2-l4"' in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert "Content-Security-Policy" in html


@needs_matplotlib
def test_report_to_stdout_and_with_unreadable_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04garbage")
    status, out, err = run("report", str(RULES / "healthy.keras"), str(bad), "missing.h5", "-o", "-", "--layer", "enc")
    assert status == 2
    assert out.startswith("<!DOCTYPE html>")
    assert "could not be read" in out and "missing.h5" in out and "bad.keras" in out
    assert err.count("kernelsplit: error:") == 2


@needs_matplotlib
def test_report_checks_the_layers_it_shows(tmp_path: Path) -> None:
    """nan.keras has its NaN in enc: a report of dec alone has no finding, one of enc has KS101."""
    for layer, expected in (("dec", False), ("enc", True)):
        status, _, err = run("report", str(RULES / "nan.keras"), "--layer", layer, "-o", f"{layer}.html")
        assert status == 0, err
        html = (tmp_path / f"{layer}.html").read_text(encoding="utf-8")
        assert ("KS101" in html) is expected
        assert html.count('<table class="gates">') == 1


@needs_matplotlib
def test_report_of_a_folder_without_models_exits_3(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    status, _, err = run("report", "empty", "-o", "r.html")
    assert status == 3 and "no model file found" in err


@needs_matplotlib
def test_report_escapes_hostile_names(tmp_path: Path) -> None:
    import h5py

    path = tmp_path / "evil.h5"
    path.write_bytes((FIXTURES / "tf_keras" / "zoo.h5").read_bytes())
    hostile = '<img src=x onerror=alert(1)>"&'
    with h5py.File(path, "r+") as h5:
        config = json.loads(h5.attrs["model_config"])
        layer = next(la for la in config["config"]["layers"] if la["config"].get("name") == "my_lstm")
        layer["config"]["activation"] = hostile
        h5.attrs["model_config"] = json.dumps(config)
    status, _, err = run("report", str(path), "--layer", "my_lstm", "-o", "r.html")
    assert status == 0, err
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&amp;" in html


# -------------------------------------------------------------------------------- without the extra


@pytest.mark.parametrize(
    "args",
    [
        ["plot", str(ZOO)],
        ["report", str(ZOO)],
        ["diff", str(RULES / "healthy.keras"), str(RULES / "finetuned.keras"), "--plot", "d/"],
    ],
    ids=["plot", "report", "diff --plot"],
)
def test_without_matplotlib_the_commands_say_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    status, out, err = run(*args)
    assert status == 2
    assert err.strip() == (
        "kernelsplit: error: pictures need matplotlib, which is not installed: pip install 'kernelsplit[plot]'"
    )
    assert out == ""
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------- inspect


def test_inspect_histogram_adds_a_sparkline_per_gate_row() -> None:
    result = CliRunner().invoke(
        cli, ["inspect", str(RULES / "healthy.keras"), "--layer", "enc", "--histogram"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if "│" in line]
    assert len(rows) == 12
    assert all(re.search(r"[▁▂▃▄▅▆▇█][▁▂▃▄▅▆▇█ ]*\s*$", row) for row in rows)
    assert "histogram" in result.stdout


def test_inspect_histogram_is_for_the_text_table_only() -> None:
    status, _, err = run("inspect", str(ZOO), "--format", "json", "--histogram")
    assert status == 2 and "--histogram" in err


def test_inspect_never_imports_matplotlib() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from kernelsplit.cli import cli; "
        f"r = CliRunner().invoke(cli, ['inspect', '--histogram', {str(ZOO)!r}]); "
        "assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"
