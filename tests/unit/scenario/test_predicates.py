"""Values compared as kubectl prints them; predicates for wait."""

from __future__ import annotations

from sandbox.scenario.predicates import as_text, condition_state, found_text, object_predicate

POD = {"status": {"phase": "Running", "conditions": [
    {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
    {"type": "PodScheduled", "status": "True"}],
    "containerStatuses": [{"name": "a", "restartCount": 1}, {"name": "b", "restartCount": 0}]}}


def test_values_compare_as_kubectl_prints_them():
    assert as_text(3) == "3" and as_text(3.0) == "3" and as_text("3") == "3"
    assert as_text(True) == "true" and as_text(None) == "null"
    assert as_text({"b": 1, "a": [1]}) == '{"a":[1],"b":1}'


def test_found_text_joins_several_results_and_says_none_for_nothing():
    assert found_text("{.status.containerStatuses[*].restartCount}", POD) == "1 0"
    assert found_text('{.status.conditions[?(@.type=="Ready")].reason}', POD) == "ContainersNotReady"
    assert found_text("{.status.podIP}", POD) is None
    assert found_text("{.status[", POD) is None  # malformed: nothing found, no crash


def test_condition_state_reads_status_and_reason():
    assert condition_state(POD, "Ready") == "Ready=False (ContainersNotReady)"
    assert condition_state(POD, "Initialized") == "Initialized: not reported"


def test_predicates_for_condition_reason_phase_and_jsonpath():
    assert object_predicate(condition="Ready", status="False")(POD)
    assert object_predicate(condition="Ready", status="False", reason="ContainersNotReady")(POD)
    assert not object_predicate(condition="Ready", status="False", reason="Other")(POD)
    assert not object_predicate(condition="Ready")(POD)
    assert object_predicate(phase="Running")(POD)
    assert object_predicate(jsonpath="{.status.containerStatuses[0].restartCount}", value=1)(POD)
    assert object_predicate(jsonpath="{.status.containerStatuses[0].restartCount}", value="1")(POD)
    assert object_predicate() is None
