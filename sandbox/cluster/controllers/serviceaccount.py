"""ServiceAccounts: a ``default`` one in every namespace, and a token Secret for each.

Two of kube-controller-manager's controllers in one module, because they
converge the same objects:

- the **serviceaccounts** controller keeps a ``default`` ServiceAccount in
  every active namespace, recreating it when it is deleted (pods run as it
  unless they name another);
- the legacy **tokens** controller gives every ServiceAccount a Secret of
  type ``kubernetes.io/service-account-token`` named ``<account>-token-xxxxx``
  with the annotations ``kubernetes.io/service-account.name`` and
  ``kubernetes.io/service-account.uid`` and the data keys ``token``,
  ``ca.crt`` and ``namespace``, lists it in the account's ``secrets``, fills
  in a token Secret a user created with only the annotation, and deletes the
  token Secrets of an account that is gone.

Kubernetes stopped auto-creating token Secrets in 1.24 (pods get short-lived
projected tokens instead); the sandbox keeps the old behaviour on purpose
because issue 3 asks for it and a long-lived Secret is what the REST facade
will accept as a bearer token. The token is an opaque random string, not a
signed JWT, and ``ca.crt`` is whatever CA bundle the backend passes (empty
until the REST facade has a CA). Data flow::

    Namespace (Active) ──► ServiceAccount default
    ServiceAccount ──► Secret <sa>-token-xxxxx ──► sa.secrets[]
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import AlreadyExists, NotFound
from sandbox.api.objects import annotations, is_being_deleted, meta
from sandbox.runtime import (
    Controller,
    EnqueueRequestsFromMapFunc,
    Manager,
    Request,
    Result,
    get_logger,
)

__all__ = ["SA_NAME", "SA_UID", "TOKEN_TYPE", "controller"]

log = get_logger(__name__)

TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME = "kubernetes.io/service-account.name"
SA_UID = "kubernetes.io/service-account.uid"

Obj = dict[str, Any]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _default_for_namespace(namespace: Mapping[str, Any]) -> list[Request]:
    return [Request("v1", "ServiceAccount", meta(namespace)["name"], "default")]


def _account_of_secret(secret: Mapping[str, Any]) -> list[Request]:
    name = annotations(secret).get(SA_NAME)
    if secret.get("type") != TOKEN_TYPE or not name:
        return []
    return [Request("v1", "ServiceAccount", meta(secret).get("namespace", ""), name)]


class ServiceAccountReconciler:
    def __init__(self, manager: Manager, *, ca_crt: bytes) -> None:
        self.client = manager.client
        self.namespaces = manager.informer("v1", "Namespace")
        self.ca_crt = ca_crt

    async def reconcile(self, request: Request) -> Result | None:
        namespace = self.namespaces.get("", request.namespace, copy=False)
        active = namespace is not None and not is_being_deleted(namespace)
        try:
            account = await self.client.get(
                "v1", "ServiceAccount", request.name, namespace=request.namespace
            )
        except NotFound:
            account = None
        if account is None:
            if request.name == "default" and active:
                await self._create_default(request.namespace)
            else:
                await self._delete_tokens(request.namespace, request.name, uid=None)
            return None
        if not active or is_being_deleted(account):
            return None
        await self._delete_tokens(request.namespace, request.name, uid=meta(account)["uid"])
        await self._ensure_token(account)
        return None

    async def _create_default(self, namespace: str) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": namespace},
        }
        try:
            await self.client.create(body)
            log.info("created the default ServiceAccount in namespace %s", namespace)
        except AlreadyExists:
            pass

    async def _tokens(self, namespace: str, name: str) -> list[Obj]:
        listed = await self.client.list("v1", "Secret", namespace=namespace)
        return [
            s
            for s in listed.get("items") or ()
            if s.get("type") == TOKEN_TYPE and annotations(s).get(SA_NAME) == name
        ]

    async def _delete_tokens(self, namespace: str, name: str, *, uid: str | None) -> None:
        """Delete the token Secrets of an account that is gone (``uid`` None) or was replaced."""
        for secret in await self._tokens(namespace, name):
            owner_uid = annotations(secret).get(SA_UID)
            if uid is not None and (not owner_uid or owner_uid == uid):
                continue
            try:
                await self.client.delete("v1", "Secret", meta(secret)["name"], namespace=namespace)
            except NotFound:
                pass

    def _data(self, namespace: str) -> dict[str, str]:
        return {
            "token": _b64(secrets.token_urlsafe(32).encode()),
            "ca.crt": _b64(self.ca_crt),
            "namespace": _b64(namespace.encode()),
        }

    async def _ensure_token(self, account: Obj) -> None:
        m = meta(account)
        namespace, name, uid = m["namespace"], m["name"], m["uid"]
        tokens = await self._tokens(namespace, name)
        for secret in tokens:
            if (secret.get("data") or {}).get("token"):
                continue
            # A user-made token Secret with only the annotation: fill it in.
            secret["data"] = {**(secret.get("data") or {}), **self._data(namespace)}
            secret["metadata"].setdefault("annotations", {})[SA_UID] = uid
            await self.client.replace(secret)
        if not tokens:
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": TOKEN_TYPE,
                "metadata": {
                    "generateName": f"{name}-token-",
                    "namespace": namespace,
                    "annotations": {SA_NAME: name, SA_UID: uid},
                },
                "data": self._data(namespace),
            }
            tokens = [await self.client.create(body)]
        listed = [ref.get("name") for ref in account.get("secrets") or ()]
        missing = [meta(t)["name"] for t in tokens if meta(t)["name"] not in listed]
        if missing:
            account["secrets"] = [*(account.get("secrets") or []), *({"name": n} for n in missing)]
            await self.client.replace(account)


def controller(manager: Manager, *, ca_crt: bytes = b"") -> Controller:
    """Default ServiceAccounts and their token Secrets; ``ca_crt`` goes into every token."""
    return Controller(
        "serviceaccount",
        for_=("v1", "ServiceAccount"),
        reconciler=ServiceAccountReconciler(manager, ca_crt=ca_crt),
        watches=[
            ("v1", "Namespace", EnqueueRequestsFromMapFunc(_default_for_namespace)),
            ("v1", "Secret", EnqueueRequestsFromMapFunc(_account_of_secret)),
        ],
    )
