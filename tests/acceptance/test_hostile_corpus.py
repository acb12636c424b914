"""The hostile corpus (tests/support/hostile.py) under every command: fail safe, say why, show, never obey.

For every crafted file and every command (inspect text and jsonl, check text/json/github, diff,
export), through the real CLI with its worker processes:

* a file that must be refused gives exit 2 and exactly one stderr line
  ``kernelsplit: error: PATH: reason``, with the expected code in the machine formats;
* a readable one gives a report (exit 0, or 1 for check/diff findings) and no error line;
* nothing prints a traceback, and no human output carries a raw control character: names,
  paths and versions from files are shown escaped (``\\x1b``), never interpreted as rich markup;
* code nested in configs or archives is listed in ``executable_layers`` and trips KS110.

Time and memory are bounded by the workers' limits (``--timeout``, ``--max-memory``), so a hang
fails the case instead of the suite.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.hostile import CLASSES, TFK_H5, Hostile, build

from kernelsplit.cli import cli
from kernelsplit.render.safe import terminal_text

LIMITS = ["--timeout", "60", "--max-memory", "2G"]
PREFIX = "kernelsplit: error: "
_RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Hostile]:
    return build(tmp_path_factory.mktemp("hostile"))


def _invoke(args: list[str]) -> Any:
    result = CliRunner().invoke(cli, [*args, *LIMITS], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def _commands(hostile: Hostile, out: Path) -> dict[str, list[str]]:
    p = str(hostile.path)
    commands = {
        "inspect-jsonl": ["inspect", "--format", "jsonl", p],
        "check-json": ["check", "--format", "json", "--fail-on", "none", p],
    }
    if hostile.heavy:  # seconds of JSON on purpose: the two machine formats say enough
        return commands
    commands |= {
        "inspect-text": ["inspect", p],
        "check-text": ["check", p],
        "diff-text": ["diff", str(TFK_H5), p],
        "export": ["export", p, "-o", str(out), "--force"],
    }
    if hostile.needle is not None:  # GitHub's log viewer obeys ANSI too
        commands["check-github"] = ["check", "--format", "github", p]
    return commands


def _problems(hostile: Hostile, tmp: Path) -> list[str]:
    problems = []
    shown = terminal_text(str(hostile.path))
    for mode, args in _commands(hostile, tmp / "export").items():
        label = f"{hostile.name} [{mode}]"
        result = _invoke(args)
        out, err = result.stdout, result.stderr
        if "Traceback" in out + err or "internal error" in err:
            problems.append(f"{label}: {err[-300:]!r}")
            continue
        if _RAW.search(out) or _RAW.search(err):
            problems.append(f"{label}: raw control character in output: {_RAW.search(out + err)!r}")
        errors = [line for line in err.splitlines() if line.startswith(PREFIX)]
        others = [
            line for line in err.splitlines() if not line.startswith(("kernelsplit: error: ", "kernelsplit: warning: "))
        ]
        if others:
            problems.append(f"{label}: stray stderr {others[:2]!r}")
        if hostile.check_skips and mode.startswith("check"):
            if result.exit_code != 0 or errors or "FIFO" not in out:
                problems.append(f"{label}: exit {result.exit_code}, wanted it listed as skipped: {out[-300:]!r}")
        elif hostile.code is not None:
            if result.exit_code != 2 or len(errors) != 1 or not errors[0].startswith(f"{PREFIX}{shown}: "):
                problems.append(f"{label}: exit {result.exit_code}, stderr {err[:300]!r} (wanted one error line)")
            code = _json_code(mode, out)
            if code is not None and code != hostile.code:
                problems.append(f"{label}: code {code}, wanted {hostile.code}: {errors}")
        elif errors or result.exit_code not in (0, 1):
            problems.append(f"{label}: exit {result.exit_code}, stderr {err[:300]!r} (wanted a report)")
        elif mode == "inspect-jsonl" and hostile.check is not None and not hostile.check(json.loads(out)):
            problems.append(f"{label}: record does not show what it must: {out[:300]!r}")
        elif mode == "check-json" and hostile.klass == "code" and not _fired(out, "KS110"):
            problems.append(f"{label}: KS110 did not fire")
    return problems


def _fired(out: str, code: str) -> bool:
    return any(f["code"] == code for f in json.loads(out)["findings"])


def _json_code(mode: str, out: str) -> str | None:
    if mode == "inspect-jsonl":
        error = json.loads(out)["error"]
        return str(error["code"]) if error else None
    if mode == "check-json":
        errors = [a["error"]["code"] for a in json.loads(out)["artifacts"] if a["error"]]
        return str(errors[0]) if errors else None
    return None


@pytest.mark.parametrize("klass", sorted(CLASSES))
def test_every_hostile_file_under_every_command(corpus: list[Hostile], klass: str, tmp_path: Path) -> None:
    chosen = [h for h in corpus if _class_folder(h) == klass]
    assert len(chosen) >= 3, f"{klass}: too few variants"
    problems = [p for hostile in chosen for p in _problems(hostile, tmp_path)]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def _class_folder(hostile: Hostile) -> str:
    return next(
        part for part in hostile.path.parts if part in ("hang", "memory", "injection", "noise", "work", "code", "rough")
    )


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_one_batch_over_the_whole_corpus_accounts_for_every_file(corpus: list[Hostile], fmt: str) -> None:
    """All files in one run on two workers: every file gets its record or its one error line, in order."""
    paths = [str(h.path) for h in corpus]
    result = _invoke(["inspect", "--format", fmt, "--jobs", "2", *paths])
    assert result.exit_code == 2
    failing = [h for h in corpus if h.code is not None]
    lines = result.stderr.splitlines()
    assert lines == [line for line in lines if line.startswith(PREFIX)]
    assert [line[len(PREFIX) :].split(": ")[0] for line in lines] == [terminal_text(str(h.path)) for h in failing]
    if fmt == "jsonl":
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["path"] for r in records] == paths
        assert [r["error"]["code"] if r["error"] else None for r in records] == [h.code for h in corpus]
    else:
        assert not _RAW.search(result.stdout)
