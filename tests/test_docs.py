"""The documentation a clone carries: complete, its links resolve, its examples are what lgcheck prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from lgcheck.spec.registry import FINDINGS

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
DOCS = os.path.join(ROOT, "docs")


def _markdown_files():
    out = [os.path.join(ROOT, "README.md")]
    for base, _, names in os.walk(DOCS):
        out += [os.path.join(base, n) for n in names if n.endswith(".md")]
    return out


def test_every_rule_has_a_page_and_an_index_entry():
    with open(os.path.join(DOCS, "rules", "README.md")) as fh:
        index = fh.read()
    for name in FINDINGS:
        assert os.path.exists(os.path.join(DOCS, "rules", f"{name}.md")), name
        assert f"({name}.md)" in index, name


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_resolve_inside_the_clone(path):
    with open(path) as fh:
        text = fh.read()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
        assert resolved.startswith(ROOT + os.sep), f"{target} leaves the clone"
        assert os.path.exists(resolved), f"{target} does not exist"
    assert "../shared" not in text


@pytest.mark.parametrize("name", sorted(FINDINGS))
def test_rule_page_example_is_what_replay_prints(name):
    with open(os.path.join(DOCS, "rules", f"{name}.md")) as fh:
        page = fh.read()
    m = re.search(r"```console\n\$ lgcheck replay (\S+)\n(.*?)```", page, re.S)
    assert m, "the page shows a replay session"
    proc = subprocess.run(
        [sys.executable, "-m", "lgcheck", "replay", m.group(1)], capture_output=True, text=True, cwd=ROOT
    )
    assert m.group(2) in proc.stdout


def _exit_table() -> dict[str, set[int]]:
    """{column: the statuses it gives} from docs/trace-format.md's one table of exit statuses."""
    with open(os.path.join(DOCS, "trace-format.md")) as fh:
        text = fh.read()
    rows = [r for r in text.split("## Exit statuses", 1)[1].splitlines() if r.startswith("|")]
    head = [c.strip() for c in rows[0].strip("|").split("|")][1:]
    out: dict[str, set[int]] = {h: set() for h in head}
    for row in rows[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        for h, cell in zip(head, cells[1:]):
            if cell != "—":
                out[h].add(int(cells[0]))
    return out


@pytest.mark.parametrize(
    "column, argv",
    [("`replay`", ["replay"]), ("`prove`", ["prove"]), ("`certify`", ["certify"]), ("`show`", ["show"])],
)
def test_each_commands_help_gives_every_exit_status_of_the_table(column, argv):
    """The help texts gave a part of the table: replay's had no 130 or 141, prove's no 141, certify's neither,
    show's none at all."""
    from lgcheck.cli import build_parser

    table = _exit_table()
    assert table[column], column
    sub = build_parser()._subparsers._group_actions[0].choices[argv[0]]
    epilog = " ".join((sub.epilog or "").split())
    for status in sorted(table[column]):
        assert re.search(rf"(^|[;:,.] ){status} ", epilog.split("exit status:", 1)[-1].strip()), (column, status)


def test_readme_replay_examples_print_what_the_readme_shows():
    """The README's `replay --quiet --jobs 2 traces/ | tail -1` still showed 27 files and 16 findings after
    traces were added (32 files, 19 findings): each command of these console blocks is run and compared."""
    with open(os.path.join(ROOT, "README.md")) as fh:
        readme = fh.read()
    blocks = re.findall(r"```console\n(.*?)```", readme, re.S)
    checked = 0
    for block in blocks:
        lines = block.splitlines()
        for i, line in enumerate(lines):
            # Only replays of the bundled traces are self-contained and exact (no timings, no files to make).
            if not re.match(r"\$ lgcheck replay (--quiet --jobs 2 )?traces/[\w./-]*( \| tail -1)?$", line):
                continue
            shown = []
            for out in lines[i + 1 :]:
                if out.startswith("$ "):
                    break
                shown.append(out)
            cmd = line[2:].split(" | ")[0].split()[1:]
            proc = subprocess.run(
                [sys.executable, "-m", "lgcheck", *cmd], capture_output=True, text=True, cwd=ROOT, timeout=300
            )
            got = proc.stdout.splitlines()
            if line.endswith("| tail -1"):
                got = got[-1:]
            assert shown and got[: len(shown)] == shown, line  # (a block may stop before the summary line)
            checked += 1
    assert checked >= 4
