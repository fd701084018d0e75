"""The registry of rules and findings (spec/registry.py) is complete and consistent.

- every rule cites a Linux path and function and has a one-line summary;
- the rules the spec is made of are all registered;
- every finding name that spec/, replay/ or checker/ can report is in FINDINGS
  (read from the sources: `st.check("name", ...)`, `self.find(rec, "name", ...)`);
- INVARIANTS groups exactly the seven invariant findings, which are exactly
  the checks spec/monitors.py makes; prove checks every group by default but
  "data" (the symbolic model keeps no bytes yet, and prove refuses it);
- `@rule` refuses a bad citation, a missing docstring and a duplicate name.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import keyword
import pkgutil
import re
from pathlib import Path

import pytest

import lgcheck.spec
from lgcheck.checker.config import Config
from lgcheck.spec.registry import FINDINGS, INVARIANTS, RULES, Rule, rule

REPO = Path(lgcheck.spec.__file__).resolve().parents[1]

# Import every module of spec/: a rule registers itself when its module is imported.
for _m in pkgutil.iter_modules(lgcheck.spec.__path__):
    importlib.import_module(f"lgcheck.spec.{_m.name}")

# The rules the spec is made of (the brief of spec/: host.py, launcher.py, hypercalls.py, devices.py).
SPEC_RULES = {
    "bind_dma": "drivers/lguest/io.c: bind_dma",
    "send_attempt": "drivers/lguest/io.c: send_dma",
    "dma_transfer": "drivers/lguest/io.c: dma_transfer",
    "check_dma_list": "drivers/lguest/io.c: check_dma_list",
    "copy_data": "drivers/lguest/io.c: copy_data",
    "copy_data_steps": "drivers/lguest/io.c: copy_data",
    "get_dma_buffer": "drivers/lguest/io.c: get_dma_buffer",
    "release_all_dma": "drivers/lguest/io.c: release_all_dma",
    "get_futex_key": "kernel/futex.c: get_futex_key",
    "lguest_address_ok": "drivers/lguest/core.c: lguest_address_ok",
    "handle_output": "Documentation/lguest/lguest.c: handle_output",
    "fill": "Documentation/lguest/lguest.c: handle_console_input",
    "send_irq": "drivers/lguest/lguest_user.c: user_send_irq",
    "hcall_send_dma": "drivers/lguest/lguest.c: lguest_send_dma",
    "status_write": "include/linux/lguest_launcher.h: lguest_device_desc",
}

LINUX_PATH = re.compile(r"^(drivers|Documentation|include|kernel|arch)/[\w./-]+\.[ch]$")
INVARIANT_FINDINGS = {
    "key-collision",
    "key-outside-device",
    "write-to-used-buffer",
    "buffer-overflow",
    "status-cleared",
    "status-forbidden-bit",
    "data-corrupted",
}


# ------------------------------------------------------------------ rules
def test_the_spec_rules_are_registered_with_their_citations():
    assert {n: RULES[n].linux for n in SPEC_RULES if n in RULES} == SPEC_RULES


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_cites_a_linux_path_and_function_and_has_a_summary(name):
    r = RULES[name]
    assert isinstance(r, Rule) and r.name == name == r.function.__name__
    path, sep, function = r.linux.partition(": ")
    assert sep, f"{name}: citation {r.linux!r} is not 'path: function'"
    assert LINUX_PATH.match(path), f"{name}: {path!r} is not a Linux source path"
    assert function.isidentifier() and not keyword.iskeyword(function), f"{name}: {function!r} is not a C identifier"
    assert r.summary and "\n" not in r.summary and r.summary == r.summary.strip()
    assert r.summary == r.function.__doc__.strip().splitlines()[0]
    assert r.function.__module__.startswith("lgcheck.spec."), r.function.__module__


def test_rule_functions_take_ops_and_state_first():
    for r in RULES.values():
        params = list(inspect.signature(r.function).parameters)
        assert params[:2] == ["ops", "st"], f"{r.name}({', '.join(params)})"


def test_rule_refuses_a_citation_without_a_function():
    with pytest.raises(ValueError, match="path: function"):
        rule("drivers/lguest/io.c")


def test_rule_refuses_a_function_without_a_docstring():
    def undocumented(ops, st):
        pass

    with pytest.raises(ValueError, match="docstring"):
        rule("drivers/lguest/io.c: undocumented")(undocumented)
    assert "undocumented" not in RULES


def test_rule_refuses_a_second_rule_of_the_same_name():
    before = RULES["bind_dma"]

    def bind_dma(ops, st):
        """A second bind_dma."""

    with pytest.raises(ValueError, match="defined twice"):
        rule("drivers/lguest/io.c: bind_dma")(bind_dma)
    assert RULES["bind_dma"] is before


# ------------------------------------------------------------------ findings used by the sources
def finding_names(path: Path) -> set[str]:
    """String literals naming a finding: st.check("name", ...) and self.find(rec, "name", ...)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        pos = {"check": 0, "find": 1}.get(node.func.attr)
        if pos is None or len(node.args) <= pos:
            continue
        arg = node.args[pos]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
    return names


SOURCES = sorted(p for d in ("spec", "replay", "checker") for p in (REPO / d).glob("*.py"))


def test_the_sources_are_found():
    names = {p.relative_to(REPO).as_posix() for p in SOURCES}
    assert {"spec/monitors.py", "replay/engine.py", "spec/state.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_finding_a_source_reports_is_registered(path):
    unknown = finding_names(path) - set(FINDINGS)
    assert not unknown, f"{path.name} reports findings missing from FINDINGS: {sorted(unknown)}"


def test_apply_and_the_engine_report_findings():
    """The grep above must see something, or it would pass vacuously."""
    assert finding_names(REPO / "spec" / "monitors.py") == INVARIANT_FINDINGS
    assert {"bad-dma", "divergence", "key-collision"} <= finding_names(REPO / "replay" / "engine.py")
    assert "unknown-descriptor" in finding_names(REPO / "spec" / "state.py")


# ------------------------------------------------------------------ FINDINGS and INVARIANTS
@pytest.mark.parametrize("name", sorted(FINDINGS))
def test_finding_is_a_stable_kebab_case_name_with_a_description(name):
    f = FINDINGS[name]
    assert f.name == name and re.fullmatch(r"[a-z]+(-[a-z]+)*", name)
    assert f.description and "\n" not in f.description
    assert f.invariant is None or f.invariant in INVARIANTS


def test_invariants_group_exactly_the_seven_invariant_findings():
    grouped = [n for names in INVARIANTS.values() for n in names]
    assert len(grouped) == len(set(grouped)) == 7
    assert INVARIANTS["data"] == ("data-corrupted",)
    assert set(grouped) == INVARIANT_FINDINGS
    assert {n for n, f in FINDINGS.items() if f.invariant is not None} == INVARIANT_FINDINGS
    for group, names in INVARIANTS.items():
        for n in names:
            assert FINDINGS[n].invariant == group, f"{n} is in INVARIANTS[{group!r}] but says {FINDINGS[n].invariant!r}"


def test_the_checker_checks_every_invariant_group_by_default_but_data():
    # "data" is replay's (version 2 bytes): the symbolic state keeps no bytes, so prove
    # has no check of it and refuses `--inv data` (tests/checker: test_prove_refuses_data).
    assert set(Config().invariants) == set(INVARIANTS) - {"data"}
