"""``kernelsplit report``: one self-contained HTML file a CI job uploads as an artifact.

Per artifact: the inspect summary (a gate table per layer with a sparkline histogram per block),
the maths (``maths.py``, with the seam for ``explain``), the check findings and, per layer, the
heatmap and distribution figures as inline PNG ``data:`` URIs. A table of contents links every
artifact and layer. Nothing in the file is fetched: no scripts, no external CSS, no fonts, a
Content-Security-Policy that forbids all of it (``html.py``).

Models are read one at a time (like ``check`` and ``inspect``): each artifact's section is rendered
as soon as it is read and only its HTML is kept. Design notes: docs/architecture.md, "Pictures".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..._version import __version__
from ...analysis.select import NothingMatchedError, Selection
from ...check.config import Config
from ...check.engine import check_artifact, rule_settings
from ...check.rules import Finding
from ...discover import Skipped, discover, skip_summary
from ...errors import KernelsplitError, NotAModelError
from ...exitcodes import ExitCode
from ...model import Artifact, Failure, GateTensor, RecurrentLayer
from ..paths import display_path
from . import sections
from .html import esc, page


@dataclass(frozen=True)
class ReportOptions:
    """What the figures show (the same meaning as ``plot``'s options)."""

    figures: bool = True
    log_count: bool = False
    spectra: bool = False
    spectra_max_units: int = 512


@dataclass
class _Entry:
    """One artifact's table-of-contents entry."""

    ident: str
    title: str
    summary: str
    layers: list[tuple[str, str, str]] = field(default_factory=list)  # (ident, name, description)


class HtmlReport:
    """Collects rendered sections; ``html()`` assembles the page with its table of contents."""

    def __init__(self, options: ReportOptions | None = None) -> None:
        self.options = options or ReportOptions()
        self.sections: list[str] = []
        self.entries: list[_Entry] = []
        self.errors: list[tuple[str, KernelsplitError]] = []
        self.counts = {"error": 0, "warning": 0, "info": 0}
        self.layers_shown = 0
        #: The "Skipped" section, when the walk skipped anything.
        self.trailer = ""

    def add(
        self,
        artifact: Artifact,
        selected: Sequence[tuple[RecurrentLayer, Sequence[GateTensor]]],
        findings: Sequence[Finding] = (),
        failures: Sequence[KernelsplitError] = (),
    ) -> None:
        index = len(self.entries) + 1
        ident = sections.anchor(index)
        shown = display_path(artifact.path)
        for finding in findings:
            self.counts[finding.severity] = self.counts.get(finding.severity, 0) + 1
        severities = ", ".join(f"{n} {s}" for s, n in _count(findings).items() if n) or "no findings"
        entry = _Entry(ident, shown, f"{artifact.format}, {len(artifact.layers)} recurrent layer(s), {severities}")
        layer_anchors: dict[str, str] = {}
        body = []
        for position, (layer, tensors) in enumerate(selected, start=1):
            layer_ident = sections.anchor(index, position)
            layer_anchors.setdefault(layer.name, layer_ident)
            entry.layers.append((layer_ident, layer.name, sections.layer_title(layer)))
            body.append(sections.layer_section(artifact, layer, tensors, findings, layer_ident, self.options))
        self.layers_shown += len(selected)
        head = [
            f'<section class="artifact" id="{ident}">',
            f"<h2>{esc(shown)}</h2>",
            sections.artifact_summary(artifact, len(selected)),
            "<h3>Check findings</h3>",
            sections.findings_table(findings, layer_anchors, failures),
        ]
        if not artifact.layers:
            head.append('<p class="meta">No recurrent layers in this artifact.</p>')
        self.sections.append("\n".join([*head, *body, "</section>"]))
        self.entries.append(entry)

    def add_failure(self, path: str, error: KernelsplitError) -> None:
        index = len(self.entries) + 1
        ident = sections.anchor(index)
        self.errors.append((path, error))
        self.sections.append(sections.failure_section(path, error, ident))
        self.entries.append(_Entry(ident, display_path(path), f"could not be read: {error.code}"))

    def add_skipped(self, skipped: Sequence[Skipped]) -> None:
        """What the walk did not read, listed at the end (nothing is passed over silently)."""
        listed, counted = skip_summary(list(skipped))
        if not listed and not counted:
            return
        items = [f"<li>{esc(display_path(item.path))}: {esc(item.reason)}</li>" for item in listed]
        items += [f"<li>{esc(line)}</li>" for line in counted]
        self.trailer = f'<section id="skipped"><h2>Skipped</h2><ul>{"".join(items)}</ul></section>'

    def html(self) -> str:
        readable = len(self.entries) - len(self.errors)
        counts = self.counts
        header = (
            "<header><h1>kernelsplit report</h1>"
            f'<p class="meta">kernelsplit {esc(__version__)} · {readable} artifact(s) read, '
            f"{len(self.errors)} unreadable · {self.layers_shown} recurrent layer(s) shown · findings: "
            f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info</p></header>"
        )
        return page("kernelsplit report", header, self._toc(), [*self.sections, self.trailer])

    def _toc(self) -> str:
        items = []
        for entry in self.entries:
            layers = "".join(
                f'<li><a href="#{ident}">{esc(name)}</a> <span class="meta">{esc(description)}</span></li>'
                for ident, name, description in entry.layers
            )
            nested = f"<ol>{layers}</ol>" if layers else ""
            items.append(
                f'<li><a href="#{entry.ident}">{esc(entry.title)}</a> '
                f'<span class="meta">{esc(entry.summary)}</span>{nested}</li>'
            )
        skipped = '<p><a href="#skipped">Skipped files</a></p>' if self.trailer else ""
        return f'<nav class="toc"><h2>Contents</h2><ol>{"".join(items)}</ol>{skipped}</nav>'


def _count(findings: Sequence[Finding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


@dataclass
class ReportRun:
    report: HtmlReport
    exit_code: ExitCode
    #: (path, error) of every file that could not be read.
    errors: list[tuple[str, KernelsplitError]]


def build_report(
    paths: Sequence[str],
    config: Config,
    selection: Selection | None = None,
    options: ReportOptions | None = None,
) -> ReportRun:
    """Read every model ``paths`` name (files, folders, globs: the walk ``inspect`` and ``check``
    share), run the check rules on it and render its section. Exit code: 2 if a file could not be
    read, 3 if no model was found, else 0 (the report is not a gate: ``check`` is)."""
    from ...api import try_open

    selection = selection or Selection()
    report = HtmlReport(options)
    found = discover(list(paths))
    skipped = list(found.skipped)
    errors: list[tuple[str, KernelsplitError]] = []
    settings = rule_settings(config)
    matched = 0
    unmatched: NothingMatchedError | None = None
    for candidate in found.candidates:
        if candidate.nothing:
            skipped.append(Skipped(candidate.path, candidate.nothing, "nothing"))  # no input, as for check
            continue
        outcome = try_open(candidate.path)
        if isinstance(outcome, Failure):
            if not candidate.explicit and isinstance(outcome.error, NotAModelError):
                skipped.append(Skipped(candidate.path, outcome.error.message, "not-a-model"))
                continue
            errors.append((candidate.path, outcome.error))
            report.add_failure(candidate.path, outcome.error)
            continue
        selected = selection.apply(outcome)
        matched += len(selected)
        if selection.active and not selected and outcome.layers and unmatched is None:
            unmatched = NothingMatchedError(selection.explain_empty(outcome.layers), path=outcome.path)
        # The rules see the whole of every layer shown (and the artifact's own facts), not the layers
        # the filters left out: a report of one layer of a big model costs one layer.
        shown = [layer for layer, _ in selected]
        checked = outcome if len(shown) == len(outcome.layers) else dataclasses.replace(outcome, layers=shown)
        findings, failures = check_artifact(checked, config, settings)
        errors += [(candidate.path, failure) for failure in failures]  # a rule that crashed: as check does
        report.add(outcome, selected, findings, failures)
    if unmatched is not None and matched == 0:
        raise unmatched
    report.add_skipped(skipped)
    if errors:
        code = ExitCode.ERROR
    elif not report.entries:
        code = ExitCode.NO_INPUT
    else:
        code = ExitCode.OK
    return ReportRun(report, code, errors)
