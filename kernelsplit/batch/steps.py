"""The one-artifact steps: plain module-level functions of picklable arguments with picklable results.

Two kinds live here:

* the public records, :func:`inspect_record` and :func:`check_record`: one path in, the JSON-ready
  record of the command's schema out (an ``error`` object instead of an exception), so any batch
  engine can map them over a fleet of artifacts (README, "Many files");
* the command line's steps (``inspect_file``, ``check_file``, ``diff_files``, ``export_file``),
  which also render human output in the worker, so only text and small records cross the pipe
  and no array ever has to be pickled.

They run in a worker (``batch/pool.py``) or, with ``--jobs 0``, in the calling process.
"""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING, Any

from ..analysis.select import Selection
from ..api import try_open
from ..errors import KernelsplitError
from ..model import Artifact, Failure
from .results import DiffResult, ExportSummary, InspectResult
from .worker import reading

if TYPE_CHECKING:
    from ..check.config import Config


class _Capture(io.StringIO):
    """Rendered output for the parent's stream: a terminal there means colour and its width here."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def _open(path: str) -> Artifact | Failure:
    reading(path)
    return try_open(path)


# ------------------------------------------------------------------------------------- inspect


def inspect_record(
    path: str, layers: tuple[str, ...] = (), gates: tuple[str, ...] = (), parts: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One ``artifacts[]`` entry of ``inspect --format json`` (schema ``kernelsplit.inspect/1``).

    Never raises for a bad file: its ``error`` is ``{"code", "message"}``. In-process and without
    limits: run it in an isolated worker (``kernelsplit --jobs``, a batch engine's worker with its
    own limits) when the files are untrusted.
    """
    from ..render.inspect.json import artifact_dict, plain_json

    outcome = _open(str(path))
    chosen = Selection(layers, gates, parts).apply(outcome) if isinstance(outcome, Artifact) else []
    return plain_json(artifact_dict(outcome, chosen))


def inspect_file(
    path: str,
    filters: tuple[tuple[str, ...], ...],
    fmt: str,
    tty: bool = False,
    wide: bool = False,
    histogram: bool = False,
) -> InspectResult:
    """Open one file and make what ``inspect --format fmt`` shows of it (the reporter's digest).

    ``filters`` are the ``--layer``/``--gate``/``--part`` tuples; ``tty`` whether the parent's
    output is a terminal (text is rendered for it: colour, and ``COLUMNS`` travels with the call).
    """
    from ..render.inspect import reporter

    selection = Selection(*filters)
    rendering = reporter(fmt, _Capture(tty), wide=wide)
    if histogram:  # inspect --histogram (text only; the command refuses it for other formats)
        rendering.histogram = True  # type: ignore[attr-defined]
    outcome = _open(path)
    if isinstance(outcome, Failure):
        return InspectResult(path, error=outcome.error, digest=rendering.digest(outcome, []))
    chosen = selection.apply(outcome)
    unmatched = selection.explain_empty(outcome.layers) if selection.active and not chosen and outcome.layers else None
    return InspectResult(path, digest=rendering.digest(outcome, chosen), matched=len(chosen), unmatched=unmatched)


# --------------------------------------------------------------------------------------- check


def check_record(path: str, config: Config | None = None) -> dict[str, Any]:
    """One artifact's ``check``: ``{"path", "format", "keras_version", "layers", "error", "findings"}``.

    The artifact fields are those of ``kernelsplit.check/1``'s ``artifacts[]``, ``findings`` those of
    its ``findings[]``. ``config`` defaults to the built-in rule settings. Never raises for a bad file.
    """
    from ..check.config import Config
    from ..check.engine import check_file
    from ..render.check.json import finding_dict
    from ..render.inspect.json import plain_json
    from .records import check_record_fields

    result = check_file(str(path), config or Config())
    errors = ([result.error] if result.error else []) + result.failures
    record = check_record_fields(str(path), errors[0] if errors else None, result.artifact)
    record["findings"] = [finding_dict(f) for f in result.findings]
    return plain_json(record)


# ---------------------------------------------------------------------------------------- diff


def diff_files(old: str, new: str, fmt: str, options: dict[str, Any], tty: bool = False) -> DiffResult:
    """Open both, compare, render: the one worker holds both artifacts' arrays, nothing else does.

    ``options``: ``max_drift``, ``quiet``, ``exit_zero``, ``plot_to`` as the command line gives them.
    """
    from ..analysis.diff import diff_artifacts
    from ..render.diff import reporter

    outcomes = [_open(path) for path in (old, new)]
    errors = [o.error for o in outcomes if isinstance(o, Failure)]
    if errors:
        return DiffResult("", 2, errors)
    artifacts = [o for o in outcomes if isinstance(o, Artifact)]
    report = diff_artifacts(artifacts[0], artifacts[1], max_drift=options.get("max_drift"))
    report.exit_zero = bool(options.get("exit_zero"))
    plot_to = options.get("plot_to")
    notes = ""
    if plot_to is not None:  # diff --plot draws from the arrays, so here (a usage error comes first)
        from ..render.plot.diffplot import changed_layers, plot_diff
        from ..render.plot.output import resolve_target

        target = resolve_target(plot_to, plot_to, None)
        changed = changed_layers(report, target)
        with contextlib.redirect_stderr(io.StringIO()) as said:  # the files written, for the parent's stderr
            plot_diff(report, changed, target)
        notes = said.getvalue()
    capture = _Capture(tty)
    reporter(fmt, quiet=bool(options.get("quiet"))).write(report, capture)
    return DiffResult(capture.getvalue(), int(report.exit_code), [], notes)


# -------------------------------------------------------------------------------------- export


def export_file(path: str, options: dict[str, Any]) -> ExportSummary:
    """Open ``path`` and export it with ``export_artifact(**options)``; errors name ``path``."""
    from ..api import open_artifact
    from ..export import export_artifact

    reading(path)
    artifact = open_artifact(path)
    try:
        result = export_artifact(artifact, **options)
    except KernelsplitError as exc:
        raise exc.at(path) from None
    return ExportSummary(
        str(result.output),
        len(result.manifest["arrays"]),
        len(result.files),
        [(r.layer, r.reason) for r in result.refused],
    )
