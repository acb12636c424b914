"""Many files: the one-artifact steps in a batch engine (the README's Dask recipe), --jobs and jsonl.

``kernelsplit.inspect_record`` and ``check_record`` are plain picklable functions returning the
JSON-ready record of one artifact; the recipe maps them over a ``dask.bag`` of paths, here on
dask's local schedulers. The CLI runs its own workers: its output keeps the input order whatever
the number of jobs.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from support.paths import FIXTURES, SCHEMAS

import kernelsplit
from kernelsplit.cli import cli

PATHS = [
    str(FIXTURES / "tf_keras" / "zoo.h5"),
    str(FIXTURES / "keras3" / "seq_dedup.keras"),
    str(FIXTURES / "rules" / "nan.keras"),
    str(FIXTURES / "legacy" / "k0_lstm.h5"),
    "does/not/exist.h5",
]


def _artifact_schema() -> dict:
    schema = json.loads((SCHEMAS / "inspect-1.json").read_text())
    return {**schema["$defs"]["artifact"], "$defs": schema["$defs"]}


def test_records_are_the_inspect_json_entries_and_survive_pickling() -> None:
    assert pickle.loads(pickle.dumps(kernelsplit.inspect_record)) is kernelsplit.inspect_record
    records = [kernelsplit.inspect_record(p) for p in PATHS]
    document = json.loads(CliRunner().invoke(cli, ["inspect", "--format", "json", *PATHS]).stdout)
    assert records == document["artifacts"]
    for record in records:
        jsonschema.validate(record, _artifact_schema())
    assert records[-1]["error"]["code"] == "not-found"


@pytest.mark.parametrize("scheduler", ["synchronous", "processes"])
def test_the_readme_dask_recipe(scheduler: str) -> None:
    dask_bag = pytest.importorskip("dask.bag")
    # --- the README's recipe ---
    bag = dask_bag.from_sequence(PATHS, npartitions=2)
    records = bag.map(kernelsplit.inspect_record).compute(scheduler=scheduler)
    findings = bag.map(kernelsplit.check_record).compute(scheduler=scheduler)
    # ---------------------------
    assert [r["path"] for r in records] == PATHS
    assert records == [kernelsplit.inspect_record(p) for p in PATHS]
    nan = findings[PATHS.index(str(FIXTURES / "rules" / "nan.keras"))]
    assert nan["error"] is None and any(f["code"] == "KS101" for f in nan["findings"])
    assert findings[-1]["error"]["code"] == "not-found"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_jsonl_keeps_input_order_whatever_the_jobs(jobs: str) -> None:
    result = CliRunner().invoke(cli, ["inspect", "--format", "jsonl", "--jobs", jobs, *PATHS])
    assert result.exit_code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in records] == PATHS
    assert records == [kernelsplit.inspect_record(p) for p in PATHS]
    assert result.stderr == "kernelsplit: error: does/not/exist.h5: no such file or directory\n"


def test_check_text_prints_each_file_as_it_is_checked(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--jobs", "2", *PATHS[:4]])
    lines = result.stdout.splitlines()
    order = [next(i for i, line in enumerate(lines) if Path(p).name in line) for p in PATHS[:4]]
    assert order == sorted(order), result.stdout
    assert lines[-1].startswith("kernelsplit check failed")


def test_in_process_mode_gives_the_same_output() -> None:
    isolated = CliRunner().invoke(cli, ["inspect", "--format", "jsonl", *PATHS])
    in_process = CliRunner().invoke(cli, ["inspect", "--format", "jsonl", "--jobs", "0", *PATHS])
    assert isolated.stdout == in_process.stdout and isolated.stderr == in_process.stderr


def test_isolated_records_match_the_plain_ones() -> None:
    from kernelsplit.batch import check_records, inspect_records

    assert list(inspect_records(PATHS, jobs=2)) == [kernelsplit.inspect_record(p) for p in PATHS]
    assert list(check_records(PATHS, jobs=2)) == [kernelsplit.check_record(p) for p in PATHS]
