"""`prove --config FILE`: read the TOML settings, each checked and placed at its file, line and column.

The keys are the long options' names (checker/cli.py DEFAULTS).  Every
error names the file and, where the key is found, its line and column, and
the key: a value the file gave is fixed in the file, so a message naming
the command-line option (`--timeout`) would send the user to the wrong
place.  `where` maps each key the file gave to that place, for the
checks that run later on the merged settings (SettingError.worded).
"""

from __future__ import annotations

import re
import tomllib

from ..replay.parser import open_regular

# A top-level `key =` (bare or quoted; TOML's own error covers anything malformed).
_KEY = re.compile(r"""[ \t]*(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9_-]+))[ \t]*=""")

_TYPE_WORDS = {int: "a whole number", bool: "true or false", str: "a string", list: "a list of names"}


def _places(text: str, path: str) -> dict[str, str]:
    """`FILE:LINE:COL` of each top-level key's first `key =` (a settings file has no tables); COL is the key's."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = _KEY.match(line)
        if m is not None:
            key = next(g for g in m.groups() if g is not None)
            column = len(line) - len(line.lstrip(" \t")) + 1
            out.setdefault(key, f"{path}:{n}:{column}")
    return out


def read(path: str, defaults: dict, types: dict) -> tuple[dict, dict[str, str]]:
    """The settings the file gives (key -> value, checked against `types`) and where each is.

    Raises ValueError naming the file (and line, column and key) for an
    unreadable file, bad TOML, an unknown key, a value of the wrong type,
    or `inv = []`.
    """
    try:
        with open_regular(path) as fh:  # a regular file only: a FIFO or device is refused
            raw = fh.read()
    except OSError as e:
        raise ValueError(f"cannot read --config {path}: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"--config {path}: not UTF-8 ({e.reason})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"--config {path}: {e}") from None
    places = _places(text, path)
    for key, value in data.items():
        at = places.get(key, path)
        if key not in defaults:
            raise ValueError(f"{at}: unknown setting {key!r}; known: {', '.join(defaults)}")
        want = types.get(key, int)
        if not isinstance(value, want) or isinstance(value, bool) and want is not bool:
            wanted = _TYPE_WORDS.get(want, "a number")
            raise ValueError(f"{at}: {key} = {value!r} is not of the right type ({wanted})")
        if want is list and not all(isinstance(v, str) for v in value):
            raise ValueError(f"{at}: {key} = {value!r} must be a list of names")
        if key == "inv" and not value:
            # Left out, inv means the default invariants; an empty list reads as "none", and a run
            # that proves nothing and exits 0 would be a silent pass: refused, as no --inv can say it.
            raise ValueError(
                f"{at}: inv = [] names no invariant; leave inv out for the default ones "
                "(keys, buffers, status), or list those to prove"
            )
    return data, {key: places.get(key, path) for key in data}
