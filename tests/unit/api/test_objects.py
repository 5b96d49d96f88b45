"""Object helpers: owners and conditions with Kubernetes' transition rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.api.objects import (
    condition_is,
    controller_of,
    deep_copy,
    fast_copy,
    find_condition,
    key_of,
    owned_by,
    remove_condition,
    set_condition,
    set_owner,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def job() -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "namespace": "ns", "uid": "u-1", "generation": 3}}


def test_last_transition_time_moves_only_when_status_flips() -> None:
    obj = job()
    assert set_condition(obj, "Ready", False, reason="Starting", now=T0)
    cond = find_condition(obj, "Ready")
    assert cond["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert cond["observedGeneration"] == 3
    assert set_condition(obj, "Ready", False, reason="StillStarting", now=T0 + timedelta(minutes=1))
    assert find_condition(obj, "Ready")["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert not set_condition(obj, "Ready", False, reason="StillStarting", now=T0 + timedelta(minutes=2))
    assert set_condition(obj, "Ready", True, reason="Up", now=T0 + timedelta(minutes=3))
    assert find_condition(obj, "Ready")["lastTransitionTime"] == "2026-01-01T00:03:00Z"
    assert condition_is(obj, "Ready")
    assert remove_condition(obj, "Ready") and find_condition(obj, "Ready") is None


def test_condition_status_must_be_kubernetes_values() -> None:
    with pytest.raises(ValueError):
        set_condition(job(), "Ready", "yes", reason="x", now=T0)


def test_owner_references() -> None:
    parent = job()
    child = {"metadata": {"name": "pod", "namespace": "ns"}}
    set_owner(child, parent)
    assert owned_by(child, parent)
    assert controller_of(child)["uid"] == "u-1"
    other = dict(job(), metadata={"name": "k", "uid": "u-2"})
    with pytest.raises(ValueError):
        set_owner(child, other)
    set_owner(child, other, controller=False)
    assert len(child["metadata"]["ownerReferences"]) == 2
    assert key_of(child) == ("ns", "pod")


def test_fast_copy_is_an_equal_independent_deep_copy_and_falls_back_for_other_values() -> None:
    original = {"a": [{"b": 1, "c": 1.5, "d": None, "e": True}], "f": (1, "x"), "g": "é"}
    copied = fast_copy(original)
    assert copied == original and type(copied["a"][0]["e"]) is bool
    copied["a"][0]["b"] = 2
    assert original["a"][0]["b"] == 1
    stamped = {"at": datetime(2026, 1, 1, tzinfo=UTC), "n": [1]}  # marshal cannot carry a datetime
    again = fast_copy(stamped)
    assert again == stamped and again["n"] is not stamped["n"]


def test_deep_copy_is_deep() -> None:
    original = {"a": [{"b": 1}]}
    copied = deep_copy(original)
    copied["a"][0]["b"] = 2
    assert original == {"a": [{"b": 1}]}
