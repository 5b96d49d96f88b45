"""Shared pieces of the REST API tests: apps over a store, a streaming transport, objects.

- :func:`api_client` — an ``httpx.AsyncClient`` over :func:`create_app` with
  httpx's own ASGI transport (whole answers) or :class:`StreamingASGITransport`
  (watches and followed logs, whose bodies never finish on their own).
- :func:`auth_app` — the app with a token file (admin, alice) and RBAC.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.backends.inprocess.apiserver.auth import Authenticator, TokenFile
from sandbox.backends.inprocess.apiserver.bootstrap import ensure_default_rbac
from sandbox.store import Store
from sandbox.testing.asgi import StreamingASGITransport

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


def api_client(app: Any, *, streaming: bool = False, token: str | None = None) -> httpx.AsyncClient:
    transport = StreamingASGITransport(app) if streaming else httpx.ASGITransport(app)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1", headers=headers)


class AuthSetup:
    """An app with authentication on: an admin token and a plain user ``alice``."""

    def __init__(self, store: Store, tmp_path: Path, **app_options: Any) -> None:
        ensure_default_rbac(store)
        self.tokens = TokenFile(tmp_path / "tokens.csv")
        self.admin = self.tokens.add_user("kubernetes-admin", groups=("system:masters",))
        self.alice = self.tokens.add_user("alice", groups=("devs",))
        self.app = create_app(store=store,
                              authenticator=Authenticator(tokens=self.tokens, store=store),
                              **app_options)


def auth_app(store: Store, tmp_path: Path, **app_options: Any) -> AuthSetup:
    return AuthSetup(store, tmp_path, **app_options)


# Streaming ---------------------------------------------------------------------------




async def read_events(response: httpx.Response, count: int, *, timeout: float = 2.0) -> list[dict]:
    """The next ``count`` watch events of a streaming response."""
    events: list[dict] = []
    lines = getattr(response, "_event_lines", None)
    if lines is None:  # one line iterator per response: httpx streams a body once
        lines = response._event_lines = response.aiter_lines()  # type: ignore[attr-defined]
    async with asyncio.timeout(timeout):
        while len(events) < count:
            line = await anext(lines)
            if line.strip():
                events.append(json.loads(line))
    return events


async def settle(rounds: int = 30) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


# Objects -------------------------------------------------------------------------------


def config_map(name: str, *, namespace: str = "default", labels: dict[str, str] | None = None,
               data: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "data": data or {"key": "value"}}


def pod(name: str, *, namespace: str = "default", containers: tuple[str, ...] = ("main",),
        labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"containers": [{"name": c, "image": "python:3.11"} for c in containers]}}


def deployment(name: str, *, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}},
        },
    }


def widget_crd(*, scale: bool = True) -> dict[str, Any]:
    subresources: dict[str, Any] = {"status": {}}
    if scale:
        subresources["scale"] = {"specReplicasPath": ".spec.replicas",
                                 "statusReplicasPath": ".status.replicas",
                                 "labelSelectorPath": ".status.selector"}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget",
                      "listKind": "WidgetList", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": True, "storage": True, "subresources": subresources,
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "size": {"type": "integer"}, "replicas": {"type": "integer"},
                            "color": {"type": "string"}}},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    },
                }},
            }],
        },
    }


def widget(name: str, *, size: int = 1, replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"size": size, "replicas": replicas}}
