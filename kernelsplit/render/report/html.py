"""HTML building blocks of the report: escaping, tables, the page around the sections.

Every string that can come from a file goes through :func:`esc` (``html.escape`` after control,
format and unassigned characters became visible escapes), and attribute values are built from
escaped text or from kernelsplit's own counters only. The page carries a Content-Security-Policy
that forbids scripts and every network fetch: images are ``data:`` URIs, the CSS is inline.
"""

from __future__ import annotations

import html
from collections.abc import Container, Iterable, Mapping, Sequence

from ..plot import printable

#: No scripts, no fetches: a report that a browser opens from disk, offline, and cannot phone home.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0 auto; max-width: 1400px; padding: 0 1.5rem 4rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.6rem; margin: 1.2rem 0 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #ccd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin-top: 2rem; }
h4 { font-size: 0.95rem; margin: 1.2rem 0 0.4rem; color: #333; }
code, .mono, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: #f6f6f9; padding: 0.6rem; overflow-x: auto; white-space: pre; font-size: 0.85rem; }
table { border-collapse: collapse; margin: 0.3rem 0 0.8rem; font-size: 0.85rem; }
th, td { border: 1px solid #d5d5de; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.gates td { white-space: nowrap; }
.scroll { overflow-x: auto; }
td.spark { font-family: "DejaVu Sans Mono", monospace; white-space: pre; letter-spacing: -0.05em; }
tr.bad td { background: #fde8e8; }
.meta { color: #555; }
.error { color: #a00; font-weight: 600; }
.sev-error { color: #a00; font-weight: 600; }
.sev-warning { color: #8a5a00; font-weight: 600; }
.sev-info { color: #245; }
nav.toc { background: #f7f7fb; border: 1px solid #dde; padding: 0.5rem 1rem; margin: 1rem 0; }
nav.toc ol { margin: 0.2rem 0; padding-left: 1.4rem; }
nav.toc h2 { margin-top: 0.3rem; }
figure { margin: 0.5rem 0 1rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.8rem; }
a { color: #1a4fa0; }
"""


def esc(text: object, limit: int = 4000) -> str:
    """Text for HTML element content or a quoted attribute value (one line: a newline is escaped)."""
    return html.escape(printable(text, limit), quote=True)


def esc_lines(text: str, limit: int = 400) -> str:
    """Multi-line text for a ``<pre>``: each line escaped as :func:`esc` does, the newlines kept."""
    return "\n".join(esc(line, limit) for line in text.split("\n"))


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    css_class: str,
    column_classes: Mapping[int, str] | None = None,
    highlight: Container[int] = (),
) -> str:
    """A table; ``rows`` hold HTML (already escaped) cells. ``column_classes`` gives columns a CSS
    class (``num``: right-aligned numbers); rows whose index is in ``highlight`` are tinted."""
    classes = {index: f' class="{name}"' for index, name in (column_classes or {}).items()}
    out = [f'<table class="{css_class}">']
    if any(headers):
        out += ["<thead><tr>", *(f"<th>{esc(h)}</th>" for h in headers), "</tr></thead>"]
    out.append("<tbody>")
    for index, row in enumerate(rows):
        out.append('<tr class="bad">' if index in highlight else "<tr>")
        out += [f"<td{classes.get(i, '')}>{cell}</td>" for i, cell in enumerate(row)]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def page(title: str, header: str, toc: str, sections: Iterable[str]) -> str:
    """The whole document: one file, no external resource of any kind."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="kernelsplit">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head><body>",
        header,
        toc,
        *sections,
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
