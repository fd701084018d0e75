"""The syntax of one `.lgt` line: grammars/lgt.lark, run by lark, into a `Draft`.

This module is the only reader of the grammar.  `parse_draft(text)` runs the
LALR parser with a transformer applied during the parse (no tree is built) and
returns a `Draft`: the record's kind and its values still as text, each with
its position in the line.  Turning a draft into a `Record` (widths, names,
required fields) is the job of `lgt_fields`; keeping the positions lets that
stage point at the offending column, and lets `lgt_shapes` see where each
number of the line went.

`syntax_error(text, exc, partial)` turns a lark `UnexpectedInput` into a
`LineError` whose message says, in the trace's own spelling, what was found and
what would have been accepted there (`key=`, `a number`, `end of line`), never
a lark terminal name.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from .errors import LineError
from .records import KINDS

GRAMMAR_PACKAGE = "lgcheck.grammars"
GRAMMAR_FILE = "lgt.lark"


# ------------------------------------------------------------------ the draft


class Leaf(NamedTuple):
    """One token of value: `kind` is num, badhex, unknown, name or string.

    `text` is as written (a string without its quotes); `pos` and `end` are
    0-based offsets in the line.
    """

    kind: str
    text: str
    pos: int
    end: int


class Seq(NamedTuple):
    """A bracketed list `[v, v]` of Leafs, or of Pairs for `map=`."""

    items: list
    end: int


class Flags(NamedTuple):
    """A `|`-separated flag value: Leafs of kind name, num or badhex (or one `?`)."""

    parts: list
    end: int


class Pair(NamedTuple):
    """`gS:ADDR` in `from=`/`to=`, or `N:F` in `map=`."""

    first: Leaf
    second: Leaf

    @property
    def end(self) -> int:
        return self.second.end


class Field(NamedTuple):
    """A named field as written: keyword (`key=`, or `->` for a result), its
    offset, and its value node (Leaf, Seq, Flags or Pair)."""

    kw: str
    pos: int
    node: object

    @property
    def end(self) -> int:
        return self.node.end


class Draft:
    """A parsed line before its values are checked.

    `args` are the positional values in order (as Leafs), `fields` the named
    ones in the order written; `guest` is N of a `gN`/`lN` actor.  `pos` is
    where the record starts and `end` where its last token ends, so that a
    missing field can be reported where it should have been written.
    """

    __slots__ = ("kind", "ts", "guest", "args", "fields", "pos", "end")

    def __init__(self, kind, guest, args, fields, pos, end):
        self.kind = kind
        self.ts = None
        self.guest = guest
        self.args = args
        self.fields = fields
        self.pos = pos
        self.end = end


# ---------------------------------------------------------------- transformer

# Rule names are the record kinds with "." spelled "_" (a lark rule name
# cannot hold a dot).
_RULE_KINDS = {kind.replace(".", "_"): kind for kind in KINDS}

_LEAF_KINDS = {"NUMBER": "num", "BAD_HEX": "badhex", "UNKNOWN": "unknown", "NAME": "name", "HEXDATA": "hex"}


def _leaf(tok: Token) -> Leaf:
    if tok.type in ("GN", "LN"):
        # gN names Guest N: the number is the digits after the letter.
        return Leaf("num", tok.value[1:], tok.start_pos + 1, tok.end_pos)
    if tok.type == "STRING":
        return Leaf("string", tok.value[1:-1], tok.start_pos, tok.end_pos)
    return Leaf(_LEAF_KINDS[tok.type], tok.value, tok.start_pos, tok.end_pos)


def _end(node) -> int:
    return node.end_pos if isinstance(node, Token) else node.end


class _ToDraft(Transformer):
    """Callbacks run by the LALR parser on each reduction, bottom-up.

    Records (`g_dma`, `host_deliver`, ...) and fields (`f_*`) are handled by
    `__default__` from their rule names, so a new record or field in the
    grammar needs no new method, only a row in `lgt_fields.SPECS`.
    """

    def start(self, children):
        if not children:
            return None  # blank or comment-only line
        draft = children[-1]
        if len(children) == 2:
            draft.ts = children[0].value[1:]
        return draft

    def value(self, children):
        return _leaf(children[0])

    ident = value

    def list(self, children):
        return Seq(children[:-1], children[-1].end_pos)

    def map_entry(self, children):
        return Pair(children[0], children[1])

    def flags(self, children):
        parts = [_leaf(tok) for tok in children]
        return Flags(parts, parts[-1].end)

    def f_map(self, children):
        kw, *entries, rsqb = children
        return Field(kw.value, kw.start_pos, Seq(entries, rsqb.end_pos))

    def __default__(self, data, children, meta):
        if data.startswith("_"):
            # An inlined rule (`_record`, `_flag`, lark's `__…_star_N`): the
            # parent splices its children in, which needs a Tree.
            return Tree(data, children)
        if data.startswith("f_"):
            return _field(children)
        kind = _RULE_KINDS.get(data)
        if kind is None:  # pragma: no cover - _check_callbacks rules this out
            raise RuntimeError(f"lgt.lark rule {data!r} has no callback")
        return _record(kind, children)


def _field(children) -> Field:
    kw, *rest = children
    nodes = [_leaf(c) if isinstance(c, Token) else c for c in rest]
    if not nodes:  # `data=` with no digits: no bytes
        nodes = [Leaf("hex", "", kw.end_pos, kw.end_pos)]
    node = nodes[0] if len(nodes) == 1 else Pair(nodes[0], nodes[1])
    return Field(kw.value, kw.start_pos, node)


def _record(kind, children) -> Draft:
    head = children[0]
    guest = _leaf(head) if head.type in ("GN", "LN") else None
    args, fields = [], []
    for child in children[1:]:
        if type(child) is Field:
            fields.append(child)
        elif not isinstance(child, Token):
            args.append(child)
        elif child.type in ("GN", "NAME"):  # host pending gN, share NAME
            args.append(_leaf(child))
        # any other token is the verb or keyword itself
    return Draft(kind, guest, args, fields, head.start_pos, _end(children[-1]))


def _cache_path() -> str | bool:
    """Where lark keeps its analysis of the grammar (False: nowhere).

    Building the LALR tables costs ~40 ms of every start-up; lark's cache
    (keyed inside the file by a SHA-256 of the grammar, the options and the
    lark and Python versions, so a stale one is rebuilt) loads them in ~6 ms.
    It lives in grammars/__pycache__, as Python's own .pyc files do, so only
    who can write the package can write it; an unwritable folder only costs
    the build.
    """
    try:
        import os

        from .. import grammars

        folder = os.path.join(os.path.dirname(os.path.abspath(grammars.__file__)), "__pycache__")
        path = os.path.join(folder, "lgt.lark.cache")
        if os.path.exists(path):
            return path
        os.makedirs(folder, exist_ok=True)
        return path if os.access(folder, os.W_OK) else False
    except (OSError, ImportError, TypeError):
        return False


def _load() -> Lark:
    parser = Lark.open_from_package(
        GRAMMAR_PACKAGE,
        GRAMMAR_FILE,
        ("",),
        parser="lalr",
        lexer="contextual",
        transformer=_ToDraft(),
        maybe_placeholders=False,
        cache=_cache_path(),
    )
    _check_callbacks(parser)
    return parser


def _check_callbacks(parser: Lark) -> None:
    """Fail at import, not on some later line, if a rule has no callback."""
    handled = {"start", "value", "ident", "list", "map_entry", "flags"}
    for rule in parser.rules:
        name = rule.origin.name
        name = name.value if isinstance(name, Token) else name
        if name.startswith("_") or name in handled or name.startswith("f_") or name in _RULE_KINDS:
            continue
        raise RuntimeError(f"lgt.lark rule {name!r} has no callback in lgt_syntax._ToDraft")


PARSER = _load()


def parse_draft(text: str) -> Draft | None:
    """Parse one line (without its line ending): a Draft, or None if blank.

    Raises lark's `UnexpectedInput` on a syntax error; see `syntax_error`.
    """
    return PARSER.parse(text)


# ------------------------------------------------------------ syntax errors

# How the user writes what a regex terminal stands for.  String terminals
# (`key=`, `dma`, `[`) are shown as written and need no entry.  None: never
# listed (BAD_HEX is accepted wherever a number is; the ignored ones are noise).
_WORDS = {
    "GN": "gN",
    "LN": "lN",
    "TIMESTAMP": "a timestamp @SECONDS",
    "NUMBER": "a number",
    "BAD_HEX": None,
    "NAME": "a name",
    "HEXDATA": "hex digits",
    "STRING": 'a quoted string "..."',
    "_COMMA": "a comma",
    "_WS": "a space",
    "$END": "end of line",
    "COMMENT": None,
    "TRAIL": None,
}


def _terminal_words(parser: Lark) -> dict[str, str | None]:
    words = {}
    for term in parser.terminals:
        if isinstance(term.pattern, PatternStr):
            words[term.name] = term.pattern.value
        elif term.name in _WORDS:
            words[term.name] = _WORDS[term.name]
        else:
            raise RuntimeError(f"lgt.lark terminal {term.name} has no words in lgt_syntax._WORDS")
    words["$END"] = _WORDS["$END"]
    return words


WORDS = _terminal_words(PARSER)
# The order in which expected things are listed: the grammar's own order.
_ORDER = {name: i for i, name in enumerate(WORDS)}

_WORD_AT = re.compile(r"[^ \t]+")
_SPACES = re.compile(r"[ \t]*")
_PARTIAL_ONLY = frozenset({"UNKNOWN", "LOST"})  # `?` and `lost` are worth offering only in partial mode
_VERBS = frozenset(
    {"DMA", "MEM", "BIND_DMA", "SEND_DMA", "STATUS", "DELIVER", "FULL", "PENDING", "DROP", "KILL"}
    | {"OUTPUT", "FILL", "NOBUF", "IRQ", "CLOSE"}
)
_FIELDS = frozenset(n for n, w in WORDS.items() if w and (w.endswith("=") or w == "->"))


def syntax_error(text: str, exc: UnexpectedInput, partial: bool) -> LineError:
    """The LineError for a lark parse failure of `text`, in the user's words."""
    pos = _error_pos(text, exc)
    expected = _expected(exc)
    at_end = isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    if at_end and expected == {"_WS"}:
        # "expected a space" says little at the end of a line: say what would
        # have followed the space (the record's fields, say).
        expected = _after_space(exc) or expected
    elif isinstance(exc, UnexpectedToken) and exc.token.type == "_WS" and "$END" in expected:
        # Spaces where the record could end: the trouble is what follows them.
        pos = _SPACES.match(text, pos).end()
        at_end = pos >= len(text)
    if not partial:
        expected -= _PARTIAL_ONLY
    if "HEADER" in expected:
        # At the start of a line, leading blanks and an empty line are fine,
        # but hardly what the writer of the line meant.
        expected -= {"_WS", "$END"}
    wanted = _listing(expected)
    if at_end or pos >= len(text):
        return LineError(pos, f"unexpected end of line: expected {wanted}")
    if text[pos] in " \t":
        blank = "space" if text[pos] == " " else "tab"
        return LineError(pos, f"unexpected {blank}: expected {wanted}")
    word = _word(text, pos)
    if word.startswith('"') and '"' not in text[pos + 1 :]:
        return LineError(pos, 'unterminated string: a quoted string ends with " on the same line')
    if "HEADER" in expected or (expected and expected <= _VERBS):
        return LineError(pos, f"unknown record {_quote(word)}: expected {wanted}")
    if word.endswith("=") and expected & _FIELDS:
        return LineError(pos, f"unknown field {_quote(word)}: expected {wanted}")
    return LineError(pos, f"unexpected {_quote(word)}: expected {wanted}")


def _error_pos(text: str, exc: UnexpectedInput) -> int:
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        # lark gives $END the position of the last token: the error is just after it.
        return exc.token.end_pos if exc.token.end_pos is not None else len(text)
    return exc.pos_in_stream if exc.pos_in_stream is not None else 0


def _expected(exc: UnexpectedInput) -> set[str]:
    try:
        accepts = exc.interactive_parser.accepts() if exc.interactive_parser else None
    except Exception:  # accepts() re-runs the parser; never let that hide the error
        accepts = None
    if accepts:
        return set(accepts)
    if isinstance(exc, UnexpectedToken):
        return set(exc.expected)
    return set(getattr(exc, "allowed", None) or ())


def _after_space(exc: UnexpectedInput) -> set[str]:
    try:
        ip = exc.interactive_parser.copy()
        ip.feed_token(Token("_WS", " "))
        return set(ip.accepts()) - {"_WS"}
    except Exception:
        return set()


def _listing(names: set[str]) -> str:
    words = [WORDS[n] for n in sorted(names, key=lambda n: _ORDER.get(n, len(_ORDER))) if WORDS.get(n)]
    if not words:
        return "nothing more"
    if len(words) == 1:
        return words[0]
    return "one of " + ", ".join(words)


def _word(text: str, pos: int) -> str:
    """The word at `pos` (a non-blank character there), cut after a field's `=`."""
    word = _WORD_AT.match(text, pos).group()
    if "=" in word:
        word = word[: word.index("=") + 1]  # kee=1 -> kee=
    return word


def _quote(word: str) -> str:
    if len(word) > 24:
        word = word[:20] + "..."
    # control characters would garble the message: show them escaped
    return '"' + "".join(c if c.isprintable() else repr(c)[1:-1] for c in word) + '"'


__all__ = ["Draft", "Field", "Flags", "Leaf", "Pair", "Seq", "parse_draft", "syntax_error", "WORDS", "PARSER"]
