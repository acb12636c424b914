"""The generation defaults of docs/formats.md ("Defaults when no config is stored"), row by row.

Only ``--assume-activations generation-default`` uses them, but then they decide what an export
computes: the two defaults of one writer must describe the same Keras.
"""

from __future__ import annotations

import pytest

from kernelsplit.maths import default_recurrent_activation, default_reset_after, writer_of


@pytest.mark.parametrize(
    ("version", "recurrent", "reset_after"),
    [
        ("1.2.2", "hard_sigmoid", False),  # Keras 1
        ("2.2.5", "hard_sigmoid", False),  # standalone Keras 2.0-2.2.5
        ("2.3.1", "sigmoid", False),  # standalone Keras 2.3
        ("2.1.6-tf", "hard_sigmoid", False),  # tf.keras in TF 1.x
        ("2.2.4-tf", None, None),  # written by TF 1.13-1.15 and by TF 2.0/2.1: unknown
        ("2.3.0-tf", "sigmoid", True),  # tf.keras in TF 2.2
        ("2.4.0", "sigmoid", True),  # tf.keras in TF 2.3 on
        ("2.13.1", "sigmoid", True),
        ("3.1.0", "sigmoid", True),  # Keras 3
    ],
)
def test_each_writer_defaults_as_its_keras_did(version: str, recurrent: str | None, reset_after: bool | None) -> None:
    writer = writer_of("h5-weights", version)
    assert default_recurrent_activation("lstm", writer) == recurrent
    assert default_reset_after(writer) is reset_after
