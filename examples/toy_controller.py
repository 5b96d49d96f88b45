"""``make demo`` (for now): the API-server core and the controller runtime, live.

Until the tutorial scenario exists, this is the richest real thing kf-sandbox
can show. Nothing is canned: it brings up the in-memory store and client,
registers a CustomResourceDefinition, and runs a small real controller on the
controller runtime, printing what happens as it happens.

The ``Mirror`` kind (``sandbox.local/v1alpha1``) asks for N copies of a
ConfigMap. Its controller is level-triggered like every Kubeflow controller
will be: it reads the world, creates or updates owned copies, and writes
``status.conditions``; it retries with exponential backoff while the source is
missing, reacts to changes of the source through a mapped watch, and gives up
with a terminal error (a ``Failed`` condition and a Warning event) when the
source is marked as locked.

Run it with ``make demo`` or ``.venv/bin/python examples/toy_controller.py``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter
from typing import Any

from sandbox.api.errors import ApiError, NotFound
from sandbox.api.objects import find_condition, owner_reference, set_condition
from sandbox.client import Client
from sandbox.client.memory import MemoryClient
from sandbox.runtime import (
    Controller,
    EnqueueRequestsFromMapFunc,
    Manager,
    Request,
    Result,
    TerminalError,
)
from sandbox.store import Store

GROUP = "sandbox.local"
API_VERSION = f"{GROUP}/v1alpha1"
LOCKED = f"{GROUP}/locked"

MIRROR_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"mirrors.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"kind": "Mirror", "plural": "mirrors", "singular": "mirror", "shortNames": ["mir"]},
        "versions": [{
            "name": "v1alpha1",
            "served": True,
            "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "required": ["source"],
                        "properties": {
                            "source": {"type": "string", "description": "ConfigMap to copy"},
                            "copies": {"type": "integer", "minimum": 1, "maximum": 5, "default": 1},
                        },
                    },
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }},
        }],
    },
}


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


class MirrorReconciler:
    """Converge a Mirror: N owned ConfigMap copies of ``spec.source``."""

    def __init__(self, client: Client, manager: Manager) -> None:
        self.client = client
        self.manager = manager

    async def reconcile(self, request: Request) -> Result | None:
        try:
            mirror = await self.client.get(API_VERSION, "Mirror", request.name,
                                           namespace=request.namespace)
        except NotFound:
            return None  # deleted; its copies go with it (owner references)
        spec = mirror["spec"]
        try:
            source = await self.client.get("v1", "ConfigMap", spec["source"],
                                           namespace=request.namespace)
        except NotFound:
            await self._status(mirror, ready=False, reason="SourceMissing",
                               message=f"ConfigMap {spec['source']!r} does not exist yet")
            raise RuntimeError(f"source ConfigMap {spec['source']!r} not found") from None
        if (source["metadata"].get("labels") or {}).get(LOCKED) == "true":
            raise TerminalError(f"ConfigMap {spec['source']!r} is locked against copying",
                                reason="SourceLocked")
        for i in range(spec["copies"]):
            await self._ensure_copy(mirror, source, f"{request.name}-{i}")
        await self._status(mirror, ready=True, reason="CopiesInSync",
                           message=f"{spec['copies']} copies of {spec['source']!r}")
        return None

    async def _ensure_copy(self, mirror: dict, source: dict, name: str) -> None:
        want = {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": mirror["metadata"]["namespace"],
                         "ownerReferences": [owner_reference(mirror)]},
            "data": dict(source.get("data") or {}),
        }
        try:
            current = await self.client.get("v1", "ConfigMap", name,
                                             namespace=mirror["metadata"]["namespace"])
        except NotFound:
            await self.client.create(want)
            return
        if current.get("data") != want["data"]:
            current["data"] = want["data"]
            await self.client.replace(current)

    async def _status(self, mirror: dict, *, ready: bool, reason: str, message: str) -> None:
        changed = set_condition(mirror, "Ready", ready, reason=reason, message=message,
                                now=self.manager.clock.now())
        if changed:
            await self.client.replace_status(mirror)


def mirrors_of_source(client_cache: Manager):
    """Map a ConfigMap change to the Mirrors that copy it (a mapped watch)."""

    def mapper(configmap: dict) -> list[Request]:
        informer = client_cache.informer(API_VERSION, "Mirror")
        ns = configmap["metadata"].get("namespace", "")
        return [
            Request(API_VERSION, "Mirror", ns, m["metadata"]["name"])
            for m in informer.list(ns, copy=False)
            if m["spec"].get("source") == configmap["metadata"]["name"]
        ]

    return mapper


class OneLine(logging.Formatter):
    """Controller log lines without tracebacks: the message says enough here."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"   log  {record.levelname:<7} {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f"  [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        return text


async def wait_ready(client: Client, name: str, status: str = "True") -> dict:
    return await client.wait_for(API_VERSION, "Mirror", name, namespace="default",
                                 condition=("Ready", status), timeout=10)


async def main() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(OneLine())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("sandbox.runtime.informer").setLevel(logging.WARNING)

    store = Store()
    client = MemoryClient(store, field_manager="demo")
    changes: Counter[str] = Counter()
    store.add_listener(lambda change: changes.update([f"{change.type} {change.resource}"]))

    say("An in-memory API server: namespaces are bootstrapped")
    for ns in (await client.list("v1", "Namespace"))["items"]:
        print(f"   Namespace {ns['metadata']['name']:<16} {ns['status']['phase']}  "
              f"resourceVersion={ns['metadata']['resourceVersion']}")

    say("Register a CustomResourceDefinition for kind Mirror")
    await client.create(MIRROR_CRD)
    crd = await client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"mirrors.{GROUP}")
    for cond in crd["status"]["conditions"]:
        print(f"   {cond['type']}={cond['status']} ({cond['reason']})")
    print(f"   `mir` now resolves to {store.registry.resolve('mir')}")

    say("Invalid objects are rejected with field paths, like Kubernetes' 422")
    try:
        await client.create({"apiVersion": API_VERSION, "kind": "Mirror",
                             "metadata": {"name": "bad", "namespace": "default"},
                             "spec": {"source": "x", "copies": 9}})
    except ApiError as err:
        print(f"   {err.code} {err.reason}: {err.message}")

    manager = Manager(client)
    manager.add(Controller(
        "mirror",
        for_=(API_VERSION, "Mirror"),
        owns=[("v1", "ConfigMap")],
        watches=[("v1", "ConfigMap", EnqueueRequestsFromMapFunc(mirrors_of_source(manager)))],
        reconciler=MirrorReconciler(client, manager),
    ))
    async with manager:
        say("Create Mirror 'settings' before its source exists: the controller retries with backoff")
        await client.create({"apiVersion": API_VERSION, "kind": "Mirror",
                             "metadata": {"name": "settings", "namespace": "default"},
                             "spec": {"source": "app-config", "copies": 2}})
        await asyncio.sleep(0.2)
        mirror = await client.get(API_VERSION, "Mirror", "settings", namespace="default")
        ready = find_condition(mirror, "Ready")
        print(f"   defaulted and stored: copies={mirror['spec']['copies']}; "
              f"Ready={ready['status'] if ready else '?'} ({ready['reason'] if ready else ''})")

        say("Create the source ConfigMap: the next retry converges")
        await client.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "app-config", "namespace": "default"},
                             "data": {"learning_rate": "0.01"}})
        mirror = await wait_ready(client, "settings")
        print(f"   Ready=True: {find_condition(mirror, 'Ready')['message']}")
        for name in ("settings-0", "settings-1"):
            copy = await client.get("v1", "ConfigMap", name, namespace="default")
            owner = copy["metadata"]["ownerReferences"][0]
            print(f"   ConfigMap {name}: data={copy['data']} owner={owner['kind']}/{owner['name']}")

        say("Change the source: a mapped watch re-runs reconcile, the copies follow")
        await client.patch("v1", "ConfigMap", "app-config", {"data": {"learning_rate": "0.001"}},
                           namespace="default")
        copy = await client.wait_for("v1", "ConfigMap", "settings-1", namespace="default",
                                     predicate=lambda o: o["data"]["learning_rate"] == "0.001",
                                     timeout=10)
        print(f"   settings-1 data is now {copy['data']}")

        say("A locked source is a terminal error: a Failed condition and a Warning event, no retries")
        await client.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "secrets-ish", "namespace": "default",
                                          "labels": {LOCKED: "true"}}})
        await client.create({"apiVersion": API_VERSION, "kind": "Mirror",
                             "metadata": {"name": "locked", "namespace": "default"},
                             "spec": {"source": "secrets-ish"}})
        failed = await client.wait_for(API_VERSION, "Mirror", "locked", namespace="default",
                                       condition="Failed", timeout=10)
        cond = find_condition(failed, "Failed")
        print(f"   Failed={cond['status']} ({cond['reason']}): {cond['message']}")
        events = await client.list("v1", "Event", namespace="default",
                                   field_selector="involvedObject.name=locked")
        for ev in events["items"]:
            print(f"   Event {ev['type']} {ev['reason']} from {ev['source']['component']}: {ev['message']}")

        say("A wait that times out says why (conditions and events of the object)")
        try:
            await client.wait_for(API_VERSION, "Mirror", "locked", namespace="default",
                                  condition="Ready", timeout=0.3)
        except TimeoutError as err:
            print("   " + str(err).replace("\n", "\n   "))

        counts = manager.controllers["mirror"].counts
    say("What happened")
    print(f"   reconciles: {dict(counts)}")
    for what, n in sorted(changes.items()):
        print(f"   {n:>3} x {what}")
    print(f"   final resourceVersion: {store.resource_version}")


if __name__ == "__main__":
    asyncio.run(main())
