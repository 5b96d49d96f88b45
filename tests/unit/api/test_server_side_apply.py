"""Server-side apply, field ownership and the FieldsV1 encoding of managedFields."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.api.errors import BadRequest, Conflict
from sandbox.api.patch import (
    BEFORE_FIRST_APPLY,
    decode_fields,
    encode_fields,
    field_path,
    ignored_paths,
    record_update,
    server_side_apply,
)
from sandbox.api.patch.fieldsets import path_string

STRING = {"type": "string"}
INT = {"type": "integer"}
STRING_MAP = {"type": "object", "additionalProperties": STRING}


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def merge_list(key: str, items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items,
            "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": key}


META = obj(
    name=STRING, labels=STRING_MAP, annotations=STRING_MAP,
    finalizers={"type": "array", "items": STRING, "x-kubernetes-list-type": "set"},
)
CONTAINER = obj(
    name=STRING, image=STRING, args={"type": "array", "items": STRING},
    ports=merge_list("containerPort", obj(containerPort=INT, protocol=STRING)),
    env=merge_list("name", obj(name=STRING, value=STRING)),
)
DEPLOYMENT = obj(
    apiVersion=STRING, kind=STRING, metadata=META,
    spec=obj(
        replicas=INT,
        selector={**obj(matchLabels=STRING_MAP), "x-kubernetes-map-type": "atomic"},
        template=obj(metadata=META, spec=obj(containers=merge_list("name", CONTAINER))),
    ),
    status=obj(replicas=INT),
)
V = "apps/v1"


def config(*, replicas: int | None = 2, image: str = "nginx:1.25", labels: dict[str, str] | None = None,
           extra: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"spec": {"containers": [{"name": "main", "image": image}, *extra]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": V,
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": labels if labels is not None else {"app": "web"}},
        "spec": spec,
    }


def apply(live: dict[str, Any] | None, applied: dict[str, Any], manager: str = "kubectl",
          **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("now", "2026-01-01T00:00:00Z")
    return server_side_apply(live, applied, manager=manager, schema=DEPLOYMENT, api_version=V, **kwargs)


def update(old: dict[str, Any] | None, new: dict[str, Any], manager: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("now", "2026-01-02T00:00:00Z")
    record_update(old, new, manager=manager, api_version=V, schema=DEPLOYMENT, **kwargs)
    return new


def entries(o: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e for e in o["metadata"].get("managedFields", [])}


def owned(o: dict[str, Any], manager: str, operation: str = "Apply") -> set[str]:
    return {path_string(p) for p in decode_fields(entries(o)[(manager, operation)]["fieldsV1"])}


def containers(o: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in o["spec"]["template"]["spec"]["containers"]}


# Create and re-apply ----------------------------------------------------------------------


def test_apply_creates_the_object_with_one_apply_entry_in_fields_v1() -> None:
    created = apply(None, config())
    assert created["spec"]["replicas"] == 2
    assert created["metadata"]["managedFields"] == [{
        "manager": "kubectl",
        "operation": "Apply",
        "apiVersion": V,
        "time": "2026-01-01T00:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {"f:spec": {"f:containers": {
                    'k:{"name":"main"}': {".": {}, "f:image": {}, "f:name": {}},
                }}},
            },
        },
    }]


def test_reapplying_without_a_field_removes_it() -> None:
    live = apply(None, config(labels={"app": "web", "tier": "front"}, extra=[{"name": "side", "image": "b"}]))
    again = apply(live, config(replicas=None, labels={"app": "web"}), now="2026-01-03T00:00:00Z")
    assert "replicas" not in again["spec"]
    assert again["metadata"]["labels"] == {"app": "web"}
    assert list(containers(again)) == ["main"]
    assert ".spec.replicas" not in owned(again, "kubectl")
    assert entries(again)[("kubectl", "Apply")]["time"] == "2026-01-03T00:00:00Z"


def test_removing_a_field_from_a_list_item_keeps_the_item() -> None:
    live = apply(None, config(extra=[{"name": "side", "image": "b", "args": ["x"]}]))
    again = apply(live, config(extra=[{"name": "side", "image": "b"}]))
    assert containers(again)["side"] == {"name": "side", "image": "b"}


def test_an_emptied_object_is_removed_with_its_last_field() -> None:
    live = apply(None, config(labels={"app": "web"}))
    again = apply(live, config(labels={}))
    assert again["metadata"]["labels"] == {}
    gone = apply(live, {k: v for k, v in config().items() if k != "metadata"} | {"metadata": {"name": "web"}})
    assert "labels" not in gone["metadata"]


def test_a_field_someone_else_also_owns_is_not_removed() -> None:
    live = apply(None, config(replicas=3))
    shared = apply(live, config(replicas=3), manager="other")
    again = apply(shared, config(replicas=None))
    assert again["spec"]["replicas"] == 3
    assert owned(again, "other") >= {".spec.replicas"}


def test_applying_the_same_configuration_twice_changes_nothing_but_keeps_the_time() -> None:
    live = apply(None, config())
    again = apply(live, config(), now="2026-05-05T00:00:00Z")
    assert again == live


def test_fields_the_manager_never_applied_stay() -> None:
    live = apply(None, config())
    live["spec"]["paused"] = True
    again = apply(live, config(replicas=None))
    assert again["spec"]["paused"] is True


# Conflicts ------------------------------------------------------------------------------


def edited(live: dict[str, Any], manager: str = "kubectl-edit", **changes: Any) -> dict[str, Any]:
    new = copy.deepcopy(live)
    new["spec"].update(changes)
    return update(live, new, manager)


def test_changing_a_field_an_update_manager_owns_is_a_conflict_with_kubernetes_message() -> None:
    live = edited(apply(None, config()), replicas=5)
    with pytest.raises(Conflict) as caught:
        apply(live, config(replicas=3))
    err = caught.value
    assert err.code == 409
    assert err.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas'
    )
    assert err.status["reason"] == "Conflict"
    assert err.status["details"]["causes"] == [{
        "type": "FieldManagerConflict",
        "message": 'conflict with "kubectl-edit" using apps/v1',
        "field": ".spec.replicas",
    }]


def test_several_conflicts_are_listed_per_manager() -> None:
    live = apply(None, config())
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = 5
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:edited"
    live = update(live, new, "mgr")
    with pytest.raises(Conflict) as caught:
        apply(live, config(replicas=3, image="nginx:1.26"))
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "mgr" using apps/v1:\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="main"].image'
    )


def test_a_conflict_with_another_applier_names_it_without_a_version() -> None:
    live = apply(None, config(replicas=2), manager="helm")
    with pytest.raises(Conflict, match=r'^Apply failed with 1 conflict: conflict with "helm": \.spec\.replicas$'):
        apply(live, config(replicas=4))


def test_force_takes_ownership_from_the_other_manager() -> None:
    live = edited(apply(None, config()), replicas=5)
    forced = apply(live, config(replicas=3), force=True)
    assert forced["spec"]["replicas"] == 3
    assert ".spec.replicas" in owned(forced, "kubectl")
    assert ("kubectl-edit", "Update") not in entries(forced)


def test_applying_the_live_value_shares_ownership_without_conflict() -> None:
    live = edited(apply(None, config()), replicas=5)
    shared = apply(live, config(replicas=5))
    assert ".spec.replicas" in owned(shared, "kubectl")
    assert ".spec.replicas" in owned(shared, "kubectl-edit", "Update")


def test_an_object_without_managed_fields_is_owned_by_before_first_apply() -> None:
    live = config(replicas=7)
    with pytest.raises(Conflict, match=f'conflict with "{BEFORE_FIRST_APPLY}" using apps/v1: .spec.replicas'):
        apply(live, config(replicas=2))
    taken = apply(live, config(replicas=2), force=True)
    assert owned(taken, BEFORE_FIRST_APPLY, "Update") == {'.metadata.labels.app', '.spec.selector',
        '.spec.template.spec.containers[name="main"]',
        '.spec.template.spec.containers[name="main"].image',
        '.spec.template.spec.containers[name="main"].name'}


# Updates ------------------------------------------------------------------------------------


def test_record_update_on_create_owns_every_field_but_the_system_ones() -> None:
    new = config()
    new["metadata"].update(uid="u", resourceVersion="1", creationTimestamp="t", generation=1)
    update(None, new, "kubectl-create", now="T")
    [entry] = new["metadata"]["managedFields"]
    assert entry["manager"] == "kubectl-create"
    assert entry["operation"] == "Update"
    assert entry["time"] == "T"
    assert owned(new, "kubectl-create", "Update") == {
        ".metadata.labels.app", ".spec.replicas", ".spec.selector",
        '.spec.template.spec.containers[name="main"]',
        '.spec.template.spec.containers[name="main"].image',
        '.spec.template.spec.containers[name="main"].name',
    }


def test_an_update_takes_changed_fields_and_removals_leave_every_manager() -> None:
    live = apply(None, config(labels={"app": "web", "tier": "front"}))
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = 9
    del new["metadata"]["labels"]["tier"]
    update(live, new, "kubectl-edit")
    assert owned(new, "kubectl-edit", "Update") == {".spec.replicas"}
    assert ".spec.replicas" not in owned(new, "kubectl")
    assert ".metadata.labels.tier" not in owned(new, "kubectl")


def test_an_update_that_changes_nothing_adds_no_entry() -> None:
    live = apply(None, config())
    new = copy.deepcopy(live)
    update(live, new, "kubectl-edit")
    assert new == live


def test_status_is_not_owned_on_the_main_resource_of_a_kind_with_status() -> None:
    new = config()
    new["status"] = {"replicas": 1}
    update(None, new, "creator", ignore_paths=ignored_paths(status_subresource=True))
    assert not any(p.startswith(".status") for p in owned(new, "creator", "Update"))
    status = copy.deepcopy(new)
    status["status"]["replicas"] = 2
    status["spec"]["replicas"] = 100
    update(new, status, "controller", subresource="status")
    [entry] = [e for e in status["metadata"]["managedFields"] if e["manager"] == "controller"]
    assert entry["subresource"] == "status"
    assert decode_fields(entry["fieldsV1"]) == {field_path("status", "replicas")}


def test_sets_are_owned_value_by_value() -> None:
    live = config()
    live["metadata"]["finalizers"] = ["a.example/x", "b"]
    created = apply(None, live)
    assert {'.metadata.finalizers[="a.example/x"]', '.metadata.finalizers[="b"]'} <= owned(created, "kubectl")
    fields = entries(created)[("kubectl", "Apply")]["fieldsV1"]["f:metadata"]["f:finalizers"]
    assert fields == {'v:"a.example/x"': {}, 'v:"b"': {}}


def test_list_items_merge_in_configuration_order_and_live_only_items_keep_their_place() -> None:
    live = apply(None, config(extra=[{"name": "b", "image": "b"}]))
    live = apply(live, config(image="x", extra=[{"name": "side", "image": "s"}]), manager="other",
                 force=True)
    assert list(containers(live)) == ["main", "b", "side"]
    reordered = apply(live, config(extra=[{"name": "b", "image": "b"}]), force=True)
    assert list(containers(reordered)) == ["main", "b", "side"]


# Bad requests -------------------------------------------------------------------------------


def test_an_apply_that_sets_managed_fields_or_the_wrong_version_is_400() -> None:
    bad = config()
    bad["metadata"]["managedFields"] = []
    with pytest.raises(BadRequest, match=r"^metadata\.managedFields must be nil$"):
        apply(None, bad)
    wrong = config() | {"apiVersion": "apps/v1beta1"}
    with pytest.raises(BadRequest) as caught:
        apply(None, wrong)
    assert caught.value.message == (
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1"
    )


def test_inputs_are_never_mutated() -> None:
    live = edited(apply(None, config()), replicas=5)
    applied = config(replicas=3)
    before = copy.deepcopy((live, applied))
    apply(live, applied, force=True)
    assert (live, applied) == before


# FieldsV1 -----------------------------------------------------------------------------------


def test_paths_print_like_structured_merge_diff() -> None:
    path = ("f:spec", "f:ports", 'k:{"containerPort":80,"protocol":"TCP"}', "f:name")
    assert path_string(path) == '.spec.ports[containerPort=80,protocol="TCP"].name'
    assert path_string(("f:metadata", "f:finalizers", 'v:"x"')) == '.metadata.finalizers[="x"]'


elements = st.one_of(
    st.sampled_from(["a", "b", "spec"]).map(lambda n: f"f:{n}"),
    st.sampled_from(['k:{"name":"main"}', 'k:{"name":"x"}']),
    st.sampled_from(['v:"a"', "v:1"]),
)


@settings(max_examples=100, deadline=None)
@given(st.sets(st.lists(elements, min_size=1, max_size=4).map(tuple), max_size=8))
def test_fields_v1_round_trips_any_set_of_paths(paths: set[tuple[str, ...]]) -> None:
    assert decode_fields(encode_fields(paths)) == paths


names = st.sampled_from(["a", "b", "c"])
extras = st.lists(
    st.fixed_dictionaries({"name": names, "image": st.sampled_from(["x", "y"])}),
    max_size=3, unique_by=lambda c: c["name"],
)


@settings(max_examples=60, deadline=None)
@given(extras, extras)
def test_apply_is_idempotent_and_the_object_is_exactly_the_configuration(
    first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> None:
    live = apply(None, config(extra=first))
    once = apply(live, config(extra=second))
    assert apply(once, config(extra=second)) == once
    without_fields = copy.deepcopy(once)
    del without_fields["metadata"]["managedFields"]
    assert without_fields == config(extra=second)
