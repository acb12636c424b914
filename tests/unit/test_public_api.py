"""The library's public names: every one resolves, and the format-taking entry points refuse
an unknown format as a usage error (exit 2 in a CLI built on them), never a bare KeyError."""

from __future__ import annotations

import json

import pytest
from support.paths import FIXTURES

import kernelsplit
from kernelsplit.errors import UsageError

ZOO = FIXTURES / "tf_keras" / "zoo.h5"


def test_every_public_name_resolves() -> None:
    assert len(kernelsplit.__all__) > 10
    for name in kernelsplit.__all__:
        assert getattr(kernelsplit, name) is not None, name


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_explain_renders_every_format(fmt: str) -> None:
    text = kernelsplit.explain(kernelsplit.open(ZOO), fmt)
    assert "my_lstm" in text
    if fmt == "json":
        assert json.loads(text)["schema"].startswith("kernelsplit.explain/")


def test_an_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="choose from text, markdown, json"):
        kernelsplit.explain(kernelsplit.open(ZOO), "html")
