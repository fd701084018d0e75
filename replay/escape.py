"""Text from a trace, made safe to print on a terminal.

Traces come from machines the user does not control: a comment, a kill
reason, a file name or an echoed line may hold ESC sequences (clear the
screen, move the cursor, print a fake `ok` line), other control characters,
or Unicode controls that reorder text (bidi overrides).  Every such text goes
through `shown()` before the text report prints it; JSON output escapes them
itself.  Tabs are kept (the caret under an error's column lines up with them).
"""

from __future__ import annotations

import re

# C0 controls but tab, DEL, C1 controls, and the Unicode format controls that
# reorder or hide text (bidi embeddings, overrides and isolates, zero-width
# and line/paragraph separators), and lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def _esc(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def shown(text: str) -> str:
    """`text` with every character that could act on a terminal written as an escape (\\x1b, \\u202e)."""
    if text.isprintable() or not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_esc, text)
