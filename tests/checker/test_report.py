"""checker/report.py: prove results as json (schema, --config keys), sarif (valid 2.1.0), junit, github."""

from __future__ import annotations

import json
import os
import tomllib
import xml.etree.ElementTree as ET
from types import SimpleNamespace as NS

import jsonschema

from lgcheck.checker.config import Config
from lgcheck.checker.report import as_dict, config_keys, render, toml_lines

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def _schema(*parts):
    with open(os.path.join(ROOT, *parts)) as fh:
        return json.load(fh)


def _run(tmp_path):
    lgt = tmp_path / "write-to-used-buffer.lgt"
    lgt.write_text("lguest-trace 1\nguest 0 pages=4\n# step 1\nl0 fill key=0 len=1\n# end\n")
    cx = NS(lgt=str(lgt), itf=str(tmp_path / "write-to-used-buffer.itf.json"))
    results = {
        "key-collision": NS(status="holds", inductive=True, depth=7, seconds=1.23456, vacuous="", lemmas=["a", "b"]),
        "write-to-used-buffer": NS(status="violated", inductive=False, depth=4, seconds=0.5),
        "status-cleared": NS(status="unknown", inductive=False, depth=9, seconds=3.0),
    }
    certificates = {"key-collision": str(tmp_path / "certificates" / "key-collision.smt2")}
    return NS(cfg=Config(), results=results, counterexamples={"write-to-used-buffer": cx}, certificates=certificates)


def test_json_matches_its_schema_and_config_feeds_back(tmp_path):
    from lgcheck.checker.cli import DEFAULTS

    doc = json.loads(render("json", _run(tmp_path), seconds=2.0))
    jsonschema.validate(doc, _schema("docs", "json-schemas", "prove.schema.json"))
    assert set(doc["config"]) <= set(DEFAULTS)
    res = {r["invariant"]: r for r in doc["results"]}
    assert (res["key-collision"]["every_depth"], res["key-collision"]["depth"]) == (True, None)
    assert res["key-collision"]["bmc_depth"] == 7
    assert (res["key-collision"]["vacuous"], res["key-collision"]["lemmas"]) == (None, ["a", "b"])
    assert res["key-collision"]["certificate"].endswith("key-collision.smt2")
    assert res["write-to-used-buffer"]["certificate"] is None and res["write-to-used-buffer"]["depth"] == 4
    assert res["write-to-used-buffer"]["counterexample"]["itf"].endswith(".itf.json")
    # the config as TOML is what --config reads
    assert tomllib.loads("\n".join(toml_lines(doc["config"]))) == doc["config"]


def test_config_keys_are_the_settings_keys():
    from lgcheck.checker.cli import DEFAULTS, config_from_settings

    given = {"launcher": "checked", "fault": ["guest-clears-status"], "sysfs": False, "timeout": 2.5, "inv": ["keys"]}
    cfg = config_from_settings({**DEFAULTS, **given, "induction": False})
    keys = config_keys(cfg)
    assert set(keys) == set(DEFAULTS)
    assert config_from_settings({**DEFAULTS, **tomllib.loads("\n".join(toml_lines(keys)))}) == cfg


def test_settings_given_are_the_config(tmp_path):
    doc = as_dict(_run(tmp_path), settings={"depth": 5, "timeout": None, "inv": ["keys"]})
    assert doc["config"] == {"depth": 5, "inv": ["keys"]}


def test_sarif_is_valid_and_points_at_the_last_step(tmp_path):
    doc = json.loads(render("sarif", _run(tmp_path)))
    jsonschema.validate(doc, _schema("tests", "data", "sarif-schema-2.1.0.json"))
    (res,) = doc["runs"][0]["results"]
    assert res["ruleId"] == "write-to-used-buffer"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_junit_one_testcase_per_invariant(tmp_path):
    suite = ET.fromstring(render("junit", _run(tmp_path))).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["write-to-used-buffer"].find("failure") is not None
    assert cases["status-cleared"].find("error") is not None
    assert list(cases["key-collision"]) == []


def test_github_annotates_the_counterexample(tmp_path):
    out = render("github", _run(tmp_path)).splitlines()
    assert out[0] == "key-collision: holds for every depth"
    assert out[1].startswith("::error file=") and ",line=4,title=write-to-used-buffer::" in out[1]
    assert out[2].startswith("::warning title=status-cleared::")
