"""`pytest scenarios/`: every scenario.yaml is a test item, failures show the run's diagnostics."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

PLUGIN = "sandbox.testing.plugin"

PASSING = """
name: passing
title: A ConfigMap
level: beginner
steps:
  - apply:
      manifest: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {k: v}}
  - expect: {object: {kind: configmap, name: c, jsonpath: "{.data.k}", equals: v}}
"""

FAILING = PASSING.replace("name: passing", "name: failing").replace("equals: v", "equals: w")


def _plugin_args() -> list[str]:
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN]


def test_each_scenario_is_one_test_item_with_its_log_on_failure(pytester: pytest.Pytester):
    for name, text in (("passing", PASSING), ("failing", FAILING),
                       ("broken", "name: broken\ntitle: B\nlevel: beginner\nsteps: []\n")):
        folder = pytester.path / "scenarios" / name
        folder.mkdir(parents=True)
        (folder / "scenario.yaml").write_text(text)
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("scenarios", f"--junitxml={junit}", "-p", "no:cacheprovider",
                                           *_plugin_args())
    result.assert_outcomes(passed=1, failed=2)
    output = result.stdout.str()
    assert "scenario failing failed:" in output
    assert "FAIL (0.0s): configmap/c {.data.k}: expected 'w', found 'v'" in output
    assert "steps: List should have at least 1 item" in output
    names = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert names == {"passing", "failing", "broken"}
