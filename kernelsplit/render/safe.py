"""Text from files is shown, never obeyed: the one escaping function every human output uses.

Layer names, notes, config values, paths found in walked folders and error messages all come from
files an attacker may have written. A raw ``ESC [ 2 J`` in a layer name would let the file rewrite
what the user sees; a ``[bold]`` or an unbalanced ``[/`` would be rich markup. So:

* :func:`terminal_text` turns every control, line-separator, bidirectional-override and
  zero-width character into a visible escape (``\\x1b``, ``\\u202e``); the error line, warnings,
  GitHub annotations and markdown cells pass file text through it;
* the rich consoles of the text reporters (``render.console.make_console``) never parse markup
  and pass *every* string they render through :func:`terminal_text`, so a reporter cannot forget;
  styled pieces are built with :func:`styled` (docs/architecture.md, "Untrusted text").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

#: C0 and C1 controls, DEL, soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width
#: and directional marks, line/paragraph separators, bidi embeddings/overrides/isolates, word
#: joiner and invisible operators, the byte-order mark and interlinear annotation characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(value: object) -> str:
    """``value`` as text with every character that could act on a terminal shown as an escape."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_escape, text)


def terminal_lines(value: object) -> str:
    """Like :func:`terminal_text`, keeping line breaks (for text already laid out in lines)."""
    return "\n".join(terminal_text(line) for line in str(value).split("\n"))


def styled(value: object, style: str = "") -> Text:
    """A rich ``Text`` of escaped ``value`` in ``style``: never parsed as markup."""
    from rich.text import Text

    return Text(terminal_text(value), style=style)
