"""What every client of the protocol does, whichever cluster it talks to.

Each test runs once per backend of ``conftest.backend`` (in-memory, REST over
ASGI, REST over HTTPS). Errors are checked by class *and* by Kubernetes'
message, because callers and learners read both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from contract_helpers import Backend, config_map, crd, deployment, eventually, pod

from sandbox.api.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    UnsupportedMediaType,
)
from sandbox.client import Client, WatchEvent
from sandbox.client.waiting import WaitTimeout


async def take(stream: AsyncIterator[WatchEvent], count: int, *, timeout: float = 2.0) -> list[WatchEvent]:
    """The first ``count`` events of a watch, then close it."""
    events: list[WatchEvent] = []
    try:
        async with asyncio.timeout(timeout):
            async for event in stream:
                events.append(event)
                if len(events) == count:
                    break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return events


def names(listed: dict[str, Any]) -> list[str]:
    return [item["metadata"]["name"] for item in listed["items"]]


def test_the_client_implements_the_protocol(backend: Backend) -> None:
    assert isinstance(backend.client, Client)


# Create, get, defaults ----------------------------------------------------------------


async def test_create_assigns_identity_and_get_returns_the_object(backend: Backend) -> None:
    c = backend.client
    created = await c.create(config_map("settings", data={"a": "1"}))
    meta = created["metadata"]
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"].endswith("Z")
    got = await c.get("v1", "ConfigMap", "settings", namespace="default")
    assert got["data"] == {"a": "1"}
    assert (got["apiVersion"], got["kind"]) == ("v1", "ConfigMap")
    assert got["metadata"]["uid"] == meta["uid"]


async def test_namespaced_objects_without_a_namespace_use_the_default_one(backend: Backend) -> None:
    c = backend.client
    created = await c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    assert created["metadata"]["namespace"] == "default"
    assert (await c.get("v1", "ConfigMap", "x"))["metadata"]["name"] == "x"
    namespace = await c.get("v1", "Namespace", "default")
    assert "namespace" not in namespace["metadata"]


async def test_generate_name_gets_a_random_suffix(backend: Backend) -> None:
    created = await backend.client.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "run-"}}
    )
    name = created["metadata"]["name"]
    assert name.startswith("run-") and len(name) == len("run-") + 5


async def test_dry_run_create_stores_nothing(backend: Backend) -> None:
    c = backend.client
    answer = await c.create(config_map("ghost"), dry_run=True)
    assert answer["metadata"]["name"] == "ghost"
    with pytest.raises(NotFound):
        await c.get("v1", "ConfigMap", "ghost")


async def test_a_missing_object_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound) as err:
        await backend.client.get("v1", "ConfigMap", "nope", namespace="default")
    assert err.value.message == 'configmaps "nope" not found'
    assert err.value.details == {"name": "nope", "kind": "configmaps"}
    with pytest.raises(NotFound) as err:
        await backend.client.get("apps/v1", "Deployment", "nope")
    assert err.value.message == 'deployments.apps "nope" not found'


async def test_an_unknown_kind_is_not_found_with_kubectls_message(backend: Backend) -> None:
    with pytest.raises(NotFound) as err:
        await backend.client.list("v1", "Gadget")
    assert err.value.message == 'no matches for kind "Gadget" in version "v1"'


async def test_creating_twice_is_already_exists(backend: Backend) -> None:
    c = backend.client
    await c.create(config_map("twice"))
    with pytest.raises(AlreadyExists) as err:
        await c.create(config_map("twice"))
    assert err.value.message == 'configmaps "twice" already exists'


async def test_creating_in_a_missing_namespace_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound) as err:
        await backend.client.create(config_map("x", namespace="nope"))
    assert err.value.message == 'namespaces "nope" not found'


async def test_an_invalid_object_is_invalid_with_field_paths(backend: Backend) -> None:
    bad = pod("bad")
    del bad["spec"]["containers"]
    with pytest.raises(Invalid) as err:
        await backend.client.create(bad)
    assert err.value.message == 'Pod "bad" is invalid: spec.containers: Required value'
    assert [(e.field, e.reason) for e in err.value.errors] == [("spec.containers", "FieldValueRequired")]


async def test_an_object_without_kind_is_a_bad_request(backend: Backend) -> None:
    with pytest.raises(BadRequest):
        await backend.client.create({"apiVersion": "v1", "metadata": {"name": "x"}})


# List, selectors, pagination -------------------------------------------------------------


async def test_list_filters_by_label_selector_string_or_dict(backend: Backend) -> None:
    c = backend.client
    await c.create(config_map("prod", labels={"env": "prod"}))
    await c.create(config_map("qa", labels={"env": "qa"}))
    await c.create(config_map("dev", labels={"env": "dev", "canary": "yes"}))

    assert names(await c.list("v1", "ConfigMap", namespace="default", label_selector="env=prod")) == ["prod"]
    assert names(await c.list("v1", "ConfigMap", namespace="default",
                              label_selector={"matchLabels": {"env": "qa"}})) == ["qa"]
    assert names(await c.list(
        "v1", "ConfigMap", namespace="default",
        label_selector={"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                                             {"key": "canary", "operator": "DoesNotExist"}]},
    )) == ["prod"]
    assert names(await c.list("v1", "ConfigMap", namespace="default",
                              label_selector="env in (qa,dev),!canary")) == ["qa"]


async def test_list_filters_by_field_selector(backend: Backend) -> None:
    c = backend.client
    await c.create(config_map("a"))
    await c.create(config_map("b"))
    listed = await c.list("v1", "ConfigMap", namespace="default", field_selector="metadata.name=b")
    assert names(listed) == ["b"]


async def test_a_malformed_selector_is_a_bad_request(backend: Backend) -> None:
    with pytest.raises(BadRequest):
        await backend.client.list("v1", "ConfigMap", label_selector="env in (prod")


async def test_list_spans_namespaces_unless_one_is_named(backend: Backend) -> None:
    c = backend.client
    await c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    await c.create(config_map("here"))
    await c.create(config_map("there", namespace="team"))
    everywhere = await c.list("v1", "ConfigMap")
    assert {"here", "there"} <= set(names(everywhere))
    assert names(await c.list("v1", "ConfigMap", namespace="team")) == ["there"]
    assert everywhere["kind"] == "ConfigMapList"
    assert int(everywhere["metadata"]["resourceVersion"]) > 0


async def test_list_pages_with_limit_and_continue(backend: Backend) -> None:
    c = backend.client
    for i in range(5):
        await c.create(config_map(f"page-{i}", labels={"batch": "pages"}))
    first = await c.list("v1", "ConfigMap", namespace="default", label_selector="batch=pages", limit=2)
    assert names(first) == ["page-0", "page-1"]
    assert first["metadata"]["remainingItemCount"] == 3
    seen = names(first)
    token = first["metadata"].get("continue")
    while token:
        page = await c.list("v1", "ConfigMap", namespace="default", label_selector="batch=pages",
                            limit=2, continue_=token)
        seen += names(page)
        token = page["metadata"].get("continue")
    assert seen == [f"page-{i}" for i in range(5)]


# Replace and the status subresource -----------------------------------------------------------


async def test_replace_with_a_stale_resource_version_is_a_conflict(backend: Backend) -> None:
    c = backend.client
    created = await c.create(config_map("c", data={"n": "0"}))
    fresh = dict(created, data={"n": "1"})
    updated = await c.replace(fresh)
    assert updated["data"] == {"n": "1"}
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    with pytest.raises(Conflict) as err:
        await c.replace(dict(created, data={"n": "2"}))
    assert err.value.message == (
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


async def test_replace_of_a_missing_object_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        await backend.client.replace(config_map("absent"))


async def test_status_is_written_only_through_the_status_subresource(backend: Backend) -> None:
    c = backend.client
    created = await c.create(deployment("web"))
    created["status"] = {"observedGeneration": 7}
    created["spec"]["replicas"] = 2
    main = await c.replace(created)
    assert main["spec"]["replicas"] == 2
    assert (main.get("status") or {}).get("observedGeneration") != 7

    main["status"] = {"observedGeneration": 7}
    main["spec"]["replicas"] = 5
    status = await c.replace_status(main)
    assert status["status"]["observedGeneration"] == 7
    assert status["spec"]["replicas"] == 2

    patched = await c.patch_status("apps/v1", "Deployment", "web", {"status": {"replicas": 1}})
    assert patched["status"]["replicas"] == 1
    assert patched["status"]["observedGeneration"] == 7


async def test_status_writes_to_a_kind_without_status_are_not_found(backend: Backend) -> None:
    await backend.client.create(config_map("plain"))
    with pytest.raises(NotFound):
        await backend.client.patch_status("v1", "ConfigMap", "plain", {"status": {"x": "1"}})


# Patches ------------------------------------------------------------------------------------


async def test_merge_patch_merges_maps_and_replaces_lists(backend: Backend) -> None:
    c = backend.client
    await c.create(deployment("web"))
    patched = await c.patch("apps/v1", "Deployment", "web", {
        "metadata": {"labels": {"tier": "front"}},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}},
    }, patch_type="merge")
    assert patched["metadata"]["labels"] == {"tier": "front"}
    assert [x["name"] for x in patched["spec"]["template"]["spec"]["containers"]] == ["web"]


async def test_strategic_merge_patch_merges_containers_by_name(backend: Backend) -> None:
    c = backend.client
    await c.create(deployment("web"))
    patched = await c.patch("apps/v1", "Deployment", "web", {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}},
    }, patch_type="strategic")
    containers = {x["name"]: x["image"] for x in patched["spec"]["template"]["spec"]["containers"]}
    assert containers == {"web": "nginx:1.26", "sidecar": "busybox:1.36"}


async def test_json_patch_applies_operations_in_order(backend: Backend) -> None:
    c = backend.client
    await c.create(config_map("ops", data={"a": "1"}))
    patched = await c.patch("v1", "ConfigMap", "ops", [
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "remove", "path": "/data/a"},
    ], patch_type="json")
    assert patched["data"] == {"b": "2"}


async def test_apply_creates_then_reports_conflicts_between_managers(backend: Backend) -> None:
    c = backend.client
    intent = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "applied", "namespace": "default"}, "data": {"a": "1"}}
    created = await c.patch("v1", "ConfigMap", "applied", intent, patch_type="apply",
                            field_manager="alice")
    assert created["data"] == {"a": "1"}
    assert [m["manager"] for m in created["metadata"]["managedFields"]] == ["alice"]
    with pytest.raises(Conflict) as err:
        await c.patch("v1", "ConfigMap", "applied", dict(intent, data={"a": "2"}),
                      patch_type="apply", field_manager="bob")
    assert err.value.message == 'Apply failed with 1 conflict: conflict with "alice": .data.a'
    forced = await c.patch("v1", "ConfigMap", "applied", dict(intent, data={"a": "2"}),
                           patch_type="apply", field_manager="bob", force=True)
    assert forced["data"] == {"a": "2"}


async def test_dry_run_patch_changes_nothing(backend: Backend) -> None:
    c = backend.client
    await c.create(config_map("dry", data={"a": "1"}))
    answer = await c.patch("v1", "ConfigMap", "dry", {"data": {"a": "2"}}, dry_run=True)
    assert answer["data"] == {"a": "2"}
    assert (await c.get("v1", "ConfigMap", "dry"))["data"] == {"a": "1"}


# Delete ------------------------------------------------------------------------------------


async def test_delete_returns_the_deleted_object(backend: Backend) -> None:
    c = backend.client
    created = await c.create(config_map("bye"))
    deleted = await c.delete("v1", "ConfigMap", "bye")
    assert deleted["metadata"]["uid"] == created["metadata"]["uid"]
    with pytest.raises(NotFound):
        await c.get("v1", "ConfigMap", "bye")
    with pytest.raises(NotFound):
        await c.delete("v1", "ConfigMap", "bye")


async def test_finalizers_hold_a_deleted_object_until_removed(backend: Backend) -> None:
    c = backend.client
    held = config_map("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    await c.create(held)
    deleting = await c.delete("v1", "ConfigMap", "held")
    assert deleting["metadata"]["deletionTimestamp"]
    assert (await c.get("v1", "ConfigMap", "held"))["metadata"]["finalizers"] == ["example.com/hold"]
    await c.patch("v1", "ConfigMap", "held", {"metadata": {"finalizers": None}})
    with pytest.raises(NotFound):
        await c.get("v1", "ConfigMap", "held")


@pytest.mark.parametrize(("policy", "finalizer"),
                         [("Foreground", "foregroundDeletion"), ("Orphan", "orphan")])
async def test_propagation_policy_is_recorded_as_a_finalizer(
    backend: Backend, policy: str, finalizer: str
) -> None:
    c = backend.client
    await c.create(config_map("owner"))
    deleting = await c.delete("v1", "ConfigMap", "owner", propagation_policy=policy)  # type: ignore[arg-type]
    assert deleting["metadata"]["finalizers"] == [finalizer]
    assert deleting["metadata"]["deletionTimestamp"]


async def test_a_failed_precondition_is_a_conflict(backend: Backend) -> None:
    c = backend.client
    created = await c.create(config_map("guarded"))
    with pytest.raises(Conflict) as err:
        await c.delete("v1", "ConfigMap", "guarded", preconditions={"uid": "not-the-uid"})
    assert err.value.message == (
        f"Precondition failed: UID in precondition: not-the-uid, "
        f"UID in object meta: {created['metadata']['uid']}"
    )
    await c.delete("v1", "ConfigMap", "guarded", preconditions={"uid": created["metadata"]["uid"]})


async def test_dry_run_delete_keeps_the_object(backend: Backend) -> None:
    c = backend.client
    await c.create(config_map("kept"))
    await c.delete("v1", "ConfigMap", "kept", dry_run=True)
    assert (await c.get("v1", "ConfigMap", "kept"))["metadata"]["name"] == "kept"


async def test_a_bound_pod_terminates_gracefully_unless_grace_is_zero(backend: Backend) -> None:
    c = backend.client
    bound = pod("bound")
    bound["spec"]["nodeName"] = "node-1"
    await c.create(bound)
    terminating = await c.delete("v1", "Pod", "bound")
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    assert (await c.get("v1", "Pod", "bound"))["metadata"]["deletionTimestamp"]
    await c.delete("v1", "Pod", "bound", grace_period_seconds=0)
    with pytest.raises(NotFound):
        await c.get("v1", "Pod", "bound")


# Watch ------------------------------------------------------------------------------------


async def test_watch_from_a_version_replays_changes_in_order(backend: Backend) -> None:
    c = backend.client
    start = (await c.list("v1", "ConfigMap", namespace="default"))["metadata"]["resourceVersion"]
    await c.create(config_map("w", data={"n": "0"}))
    await c.patch("v1", "ConfigMap", "w", {"data": {"n": "1"}})
    await c.delete("v1", "ConfigMap", "w")
    events = await take(c.watch("v1", "ConfigMap", namespace="default", resource_version=start), 3)
    assert [(e.type, e.object["data"]["n"]) for e in events] == [
        ("ADDED", "0"), ("MODIFIED", "1"), ("DELETED", "1")]
    versions = [int(e.resource_version) for e in events]
    assert versions == sorted(versions) and versions[0] > int(start)


async def test_watch_without_a_version_starts_with_what_exists(backend: Backend) -> None:
    c = backend.client
    await c.create(config_map("one", labels={"w": "yes"}))
    await c.create(config_map("two", labels={"w": "yes"}))
    await c.create(config_map("other"))
    events = await take(c.watch("v1", "ConfigMap", namespace="default", label_selector="w=yes"), 2)
    assert sorted((e.type, e.object["metadata"]["name"]) for e in events) == [
        ("ADDED", "one"), ("ADDED", "two")]


async def test_watch_delivers_live_changes_that_match_its_selectors(backend: Backend) -> None:
    c = backend.client
    start = (await c.list("v1", "ConfigMap"))["metadata"]["resourceVersion"]
    watchers = backend.store.watcher_count()
    stream = c.watch("v1", "ConfigMap", resource_version=start,
                     label_selector={"matchLabels": {"app": "live"}})
    collected = asyncio.create_task(take(stream, 2))
    await eventually(lambda: backend.store.watcher_count() > watchers)
    await c.create(config_map("ignored"))
    await c.create(config_map("seen", labels={"app": "live"}))
    await c.patch("v1", "ConfigMap", "seen", {"data": {"x": "1"}})
    events = await collected
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", "seen"), ("MODIFIED", "seen")]


async def test_watch_from_a_compacted_version_raises_gone(backend: Backend) -> None:
    c = backend.client
    start = (await c.list("v1", "ConfigMap"))["metadata"]["resourceVersion"]
    await c.create(config_map("old"))
    backend.store.compact()
    with pytest.raises(Gone) as err:
        await take(c.watch("v1", "ConfigMap", resource_version=start), 1)
    assert err.value.message.startswith(f"too old resource version: {start} (")


async def test_watch_ends_at_its_timeout(backend: Backend) -> None:
    c = backend.client
    start = (await c.list("v1", "ConfigMap"))["metadata"]["resourceVersion"]
    watchers = backend.store.watcher_count()
    task = asyncio.create_task(take(c.watch("v1", "ConfigMap", resource_version=start,
                                            timeout_seconds=5), 1, timeout=5))
    await eventually(lambda: backend.store.watcher_count() > watchers)
    await backend.clock.advance(5)
    assert await task == []


async def test_an_idle_watch_that_allows_bookmarks_gets_one_per_minute(backend: Backend) -> None:
    c = backend.client
    start = (await c.list("v1", "ConfigMap"))["metadata"]["resourceVersion"]
    sleepers = backend.clock.sleepers
    task = asyncio.create_task(take(c.watch("v1", "ConfigMap", resource_version=start,
                                            allow_bookmarks=True), 1))
    await eventually(lambda: backend.clock.sleepers > sleepers)
    await backend.clock.advance(60)
    [bookmark] = await task
    assert bookmark.type == "BOOKMARK"
    assert bookmark.resource_version == start
    assert bookmark.object["kind"] == "ConfigMap"


# wait_for ----------------------------------------------------------------------------------


async def test_wait_for_returns_once_the_condition_holds(backend: Backend) -> None:
    c = backend.client
    await c.create(deployment("web"))
    watchers = backend.store.watcher_count()
    waiter = asyncio.create_task(c.wait_for("apps/v1", "Deployment", "web", condition="Available",
                                            timeout=30))
    await eventually(lambda: backend.store.watcher_count() > watchers)
    await c.patch_status("apps/v1", "Deployment", "web", {"status": {"conditions": [
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}})
    done = await asyncio.wait_for(waiter, 2)
    assert done["status"]["conditions"][0]["type"] == "Available"


async def test_wait_for_times_out_with_the_last_state(backend: Backend) -> None:
    c = backend.client
    await c.create(deployment("stuck"))
    await c.patch_status("apps/v1", "Deployment", "stuck", {"status": {"conditions": [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": "ReplicaSet has timed out progressing"}]}})
    watchers = backend.store.watcher_count()
    waiter = asyncio.create_task(c.wait_for("apps/v1", "Deployment", "stuck", namespace="default",
                                            condition="Available", timeout=5))
    await eventually(lambda: backend.store.watcher_count() > watchers)
    await backend.clock.advance(5)
    with pytest.raises(WaitTimeout) as err:
        await asyncio.wait_for(waiter, 2)
    text = str(err.value)
    assert text.startswith(
        "timed out after 5s waiting for condition Available=True on Deployment stuck in namespace default")
    assert "Progressing=False (ProgressDeadlineExceeded): ReplicaSet has timed out progressing" in text


async def test_wait_for_deletion(backend: Backend) -> None:
    c = backend.client
    await c.create(config_map("doomed"))
    watchers = backend.store.watcher_count()
    waiter = asyncio.create_task(c.wait_for("v1", "ConfigMap", "doomed", deleted=True, timeout=30))
    await eventually(lambda: backend.store.watcher_count() > watchers)
    await c.delete("v1", "ConfigMap", "doomed")
    assert await asyncio.wait_for(waiter, 2) == {}


# Custom resources --------------------------------------------------------------------------


async def test_a_registered_crd_serves_its_kind(backend: Backend) -> None:
    c = backend.client
    with pytest.raises(NotFound) as err:
        await c.get("example.com/v1", "Widget", "w")
    assert err.value.message == 'no matches for kind "Widget" in version "example.com/v1"'
    await c.create(crd())
    await c.wait_for("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com",
                     condition="Established", timeout=5)

    created = await c.create({"apiVersion": "example.com/v1", "kind": "Widget",
                              "metadata": {"name": "w"}, "spec": {"size": 1}})
    assert created["metadata"]["namespace"] == "default"
    assert names(await c.list("example.com/v1", "Widget")) == ["w"]
    patched = await c.patch("example.com/v1", "Widget", "w", {"spec": {"color": "red"}})
    assert patched["spec"] == {"size": 1, "color": "red"}
    status = await c.patch_status("example.com/v1", "Widget", "w", {"status": {"ready": True}})
    assert status["status"] == {"ready": True}
    with pytest.raises(NotFound) as err:
        await c.get("example.com/v1", "Widget", "nope")
    assert err.value.message == 'widgets.example.com "nope" not found'
    await c.delete("example.com/v1", "Widget", "w")
    assert names(await c.list("example.com/v1", "Widget")) == []


async def test_a_custom_resource_is_validated_against_its_schema(backend: Backend) -> None:
    c = backend.client
    await c.create(crd())
    with pytest.raises(Invalid) as err:
        await c.create({"apiVersion": "example.com/v1", "kind": "Widget",
                        "metadata": {"name": "w"}, "spec": {"size": -1}})
    assert [e.field for e in err.value.errors] == ["spec.size"]
    assert err.value.message.startswith('Widget.example.com "w" is invalid: spec.size: Invalid value: -1')


async def test_strategic_merge_patch_on_a_custom_resource_is_unsupported(backend: Backend) -> None:
    c = backend.client
    await c.create(crd())
    await c.create({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                    "spec": {"size": 1}})
    with pytest.raises(UnsupportedMediaType) as err:
        await c.patch("example.com/v1", "Widget", "w", {"spec": {"size": 2}}, patch_type="strategic")
    assert err.value.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )


# Logs --------------------------------------------------------------------------------------


async def test_logs_read_a_containers_lines(backend: Backend) -> None:
    c = backend.client
    await c.create(pod("talker", containers=("main", "side")))
    await backend.logs.write("default", "talker", "main", "one", "two", "three")
    await backend.logs.write("default", "talker", "side", "aside")
    assert await c.logs("talker", namespace="default") == "one\ntwo\nthree\n"
    assert await c.logs("talker", namespace="default", tail_lines=1) == "three\n"
    assert await c.logs("talker", namespace="default", container="side") == "aside\n"


async def test_follow_logs_streams_lines_until_the_container_ends(backend: Backend) -> None:
    c = backend.client
    await c.create(pod("streamer"))
    await backend.logs.write("default", "streamer", "main", "first")

    async def follow() -> list[str]:
        return [line async for line in c.follow_logs("streamer", namespace="default")]

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.01)
    await backend.logs.write("default", "streamer", "main", "second", "third")
    await backend.logs.end("default", "streamer", "main")
    assert await asyncio.wait_for(task, 2) == ["first", "second", "third"]


async def test_logs_of_a_missing_pod_are_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound) as err:
        await backend.client.logs("ghost", namespace="default")
    assert err.value.message == 'pods "ghost" not found'
