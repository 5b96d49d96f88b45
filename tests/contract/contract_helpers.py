"""Shared pieces of the client contract suite: a log source and objects.

- :class:`FakeLogSource` is a :class:`~sandbox.client.memory.LogSource` whose
  lines the test writes, so ``logs``/``follow_logs`` can be checked on every
  backend without a kubelet.
- The ``kube`` backend over ASGI streams with
  :class:`sandbox.testing.asgi.StreamingASGITransport`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.client import Client
from sandbox.clock import FakeClock
from sandbox.store import Store


@dataclass
class Backend:
    """A client of a fresh cluster, and what a test needs to stage situations."""

    name: str
    client: Client
    store: Store
    clock: FakeClock
    logs: FakeLogSource


class FakeLogSource:
    """Container logs the test writes: ``write`` lines, ``end`` a container's run."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, str, str], list[str]] = {}
        self._ended: set[tuple[str, str, str]] = set()
        self._changed = asyncio.Condition()

    @staticmethod
    def _key(namespace: str, pod: dict[str, Any], container: str | None) -> tuple[str, str, str]:
        if not container:
            container = pod["spec"]["containers"][0]["name"]
        return namespace, pod["metadata"]["name"], container

    async def write(self, namespace: str, pod: str, container: str, *lines: str) -> None:
        async with self._changed:
            self._lines.setdefault((namespace, pod, container), []).extend(lines)
            self._changed.notify_all()

    async def end(self, namespace: str, pod: str, container: str) -> None:
        async with self._changed:
            self._ended.add((namespace, pod, container))
            self._changed.notify_all()

    async def read(
        self,
        namespace: str,
        pod: dict[str, Any],
        *,
        container: str | None,
        previous: bool,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
    ) -> str:
        lines = self._lines.get(self._key(namespace, pod, container), [])
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines else []
        return "".join(line + "\n" for line in lines)

    def last_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def follow(
        self,
        namespace: str,
        pod: dict[str, Any],
        *,
        container: str | None,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
    ) -> AsyncIterator[str]:
        key = self._key(namespace, pod, container)
        sent = 0
        while True:
            async with self._changed:
                await self._changed.wait_for(
                    lambda sent=sent: len(self._lines.get(key, [])) > sent or key in self._ended
                )
                fresh = self._lines.get(key, [])[sent:]
                ended = key in self._ended
            for line in fresh:
                yield line
            sent += len(fresh)
            if ended and not fresh:
                return




async def eventually(check: Callable[[], bool], *, timeout: float = 2.0) -> None:
    """Wait (really, but briefly) until ``check()`` holds: for work crossing a socket."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


# Objects ----------------------------------------------------------------------------


def config_map(name: str, *, namespace: str = "default", labels: dict[str, str] | None = None,
               data: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "data": data or {}}


def pod(name: str, *, namespace: str = "default", containers: tuple[str, ...] = ("main",)) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": c, "image": "python:3.11"} for c in containers]}}


def deployment(name: str, *, image: str = "nginx:1.25") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image},
                                        {"name": "sidecar", "image": "busybox:1.36"}]},
            },
        },
    }


def crd(*, group: str = "example.com", kind: str = "Widget", plural: str = "widgets") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(),
                      "listKind": f"{kind}List"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "size": {"type": "integer", "minimum": 0},
                            "color": {"type": "string"},
                        }},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    },
                }},
            }],
        },
    }
