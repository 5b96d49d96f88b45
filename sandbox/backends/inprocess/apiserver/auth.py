"""Authentication: bearer tokens to users and groups, as kube-apiserver does it.

Two token sources, tried in order:

1. **The static token file** ``<home>/tokens.csv`` in Kubernetes' own
   ``--token-auth-file`` format — ``token,user,uid,"group1,group2"`` — so
   the file reads the same as on a real control plane. The admin of the
   generated kubeconfig is ``kubernetes-admin`` in ``system:masters``;
   :meth:`TokenFile.add_user` appends a user and returns its new token.
2. **ServiceAccount tokens**: a Secret of type
   ``kubernetes.io/service-account-token`` whose ``data.token`` holds the
   token authenticates as ``system:serviceaccount:<ns>:<sa>`` in the groups
   ``system:serviceaccounts`` and ``system:serviceaccounts:<ns>``. The
   ``serviceaccounts/<sa>/token`` subresource (``kubectl create token``)
   hands out that same token (:func:`service_account_token`): the sandbox's
   tokens are long-lived Secrets, not TokenRequest JWTs.

Every authenticated user is also in ``system:authenticated``. The header may
be ``Authorization: Bearer <token>`` or — as the Python client 36 sends it —
the bare token. No header at all is the anonymous user
(``system:anonymous``/``system:unauthenticated``), which RBAC lets read
``/version`` and the health endpoints only; a token nobody knows is 401.

**Impersonation** (``kubectl --as=alice --as-group=devs``): the
``Impersonate-User``/``-Group``/``-Uid`` headers make the request act as
another user, once RBAC allows the requester the ``impersonate`` verb on
``users``, ``groups``, ``uids`` or ``serviceaccounts`` of those names
(:func:`impersonate`), as kube-apiserver's impersonation filter does.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.api import rbac
from sandbox.api.errors import ApiError, BadRequest, Unauthorized
from sandbox.api.rbac import UserInfo
from sandbox.store import Store

__all__ = [
    "ADMIN_GROUP",
    "ADMIN_USER",
    "ANONYMOUS_USER",
    "Authenticator",
    "StaticToken",
    "TokenFile",
    "impersonate",
    "service_account_token",
]

ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "system:masters"
AUTHENTICATED = "system:authenticated"
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"

ANONYMOUS_USER = UserInfo(name="system:anonymous", groups=("system:unauthenticated",))


@dataclass(frozen=True)
class StaticToken:
    token: str
    user: str
    uid: str
    groups: tuple[str, ...] = ()


class TokenFile:
    """Kubernetes' static token file: one ``token,user,uid,"groups"`` row per user."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._tokens: dict[str, StaticToken] = {}
        self._mtime: float | None = None
        self._reload()

    def _reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._tokens, self._mtime = {}, None
            return
        if mtime == self._mtime:
            return
        tokens: dict[str, StaticToken] = {}
        for row in csv.reader(io.StringIO(self.path.read_text())):
            if len(row) < 3 or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
            tokens[row[0].strip()] = StaticToken(row[0].strip(), row[1].strip(), row[2].strip(),
                                                 groups)
        self._tokens, self._mtime = tokens, mtime

    def lookup(self, token: str) -> StaticToken | None:
        found = self._tokens.get(token)
        if found is None:
            with self._lock:
                self._reload()  # someone may have edited the file
            found = self._tokens.get(token)
        return found

    def token_of(self, user: str) -> str | None:
        return next((t.token for t in self._tokens.values() if t.user == user), None)

    def add_user(self, user: str, *, groups: Iterable[str] = (), uid: str = "") -> str:
        """Append a user with a fresh token (mode 0600 file); returns the token."""
        token = secrets.token_hex(24)
        out = io.StringIO()
        row = [token, user, uid or user]
        groups = tuple(groups)
        if groups:
            row.append(",".join(groups))
        csv.writer(out, lineterminator="\n").writerow(row)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a") as handle:
                handle.write(out.getvalue())
            self._tokens[token] = StaticToken(token, user, uid or user, groups)
            self._mtime = None  # re-read on the next miss
        return token


class Authenticator:
    """Bearer token -> :class:`UserInfo` (see the module docstring)."""

    def __init__(self, *, tokens: TokenFile | None = None, store: Store | None = None) -> None:
        self.tokens = tokens
        self.store = store
        self._sa_cache: dict[str, tuple[str, str, UserInfo]] = {}

    def authenticate(self, header: str | None) -> UserInfo:
        """The request's user; raises 401 ``Unauthorized`` for a token nobody has."""
        if header is None:
            return ANONYMOUS_USER
        token = header.strip()
        scheme, _, rest = token.partition(" ")
        if scheme.lower() == "bearer":
            token = rest.strip()
        elif rest:
            raise Unauthorized("Unauthorized")  # Basic and other schemes
        user = self.user_for_token(token) if token else None
        if user is None:
            raise Unauthorized("Unauthorized")
        return user

    def user_for_token(self, token: str) -> UserInfo | None:
        if self.tokens is not None:
            found = self.tokens.lookup(token)
            if found is not None:
                groups = found.groups if AUTHENTICATED in found.groups else (
                    *found.groups, AUTHENTICATED)
                return UserInfo(name=found.user, groups=groups, uid=found.uid)
        if self.store is not None:
            return self._service_account(token)
        return None

    def _service_account(self, token: str) -> UserInfo | None:
        cached = self._sa_cache.get(token)
        if cached is not None:
            namespace, secret, user = cached
            if self._secret_token(namespace, secret) == token:
                return user
            del self._sa_cache[token]
        assert self.store is not None
        secrets_list = self.store.list("v1", "Secret", field_selector=f"type={SA_TOKEN_TYPE}")
        for secret in secrets_list["items"]:
            if _decoded_token(secret) != token:
                continue
            meta = secret["metadata"]
            account = (meta.get("annotations") or {}).get(SA_NAME_ANNOTATION)
            if not account:
                continue
            namespace = meta["namespace"]
            user = rbac.service_account_user(namespace, account, uid=(
                meta.get("annotations") or {}).get("kubernetes.io/service-account.uid", ""))
            self._sa_cache[token] = (namespace, meta["name"], user)
            return user
        return None

    def _secret_token(self, namespace: str, name: str) -> str | None:
        assert self.store is not None
        try:
            secret = self.store.get("v1", "Secret", name, namespace=namespace)
        except ApiError:
            return None
        return _decoded_token(secret)


def service_account_token(store: Store, namespace: str, account: Mapping[str, Any]) -> str | None:
    """The token of the ServiceAccount's token Secret (the one it lists first, else any)."""
    meta = account.get("metadata") or {}
    listed = store.list("v1", "Secret", namespace=namespace,
                        field_selector=f"type={SA_TOKEN_TYPE}")["items"]
    mine = [s for s in listed
            if (s["metadata"].get("annotations") or {}).get(SA_NAME_ANNOTATION) == meta.get("name")
            and (s["metadata"].get("annotations") or {}).get(
                "kubernetes.io/service-account.uid", meta.get("uid")) == meta.get("uid")]
    order = [ref.get("name") for ref in account.get("secrets") or ()]
    mine.sort(key=lambda s: order.index(s["metadata"]["name"]) if s["metadata"]["name"] in order
              else len(order))
    for secret in mine:
        token = _decoded_token(secret)
        if token:
            return token
    return None


def _decoded_token(secret: dict) -> str | None:
    raw = (secret.get("data") or {}).get("token")
    if not raw:
        return None
    try:
        return base64.b64decode(raw).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


_SA_PREFIX = "system:serviceaccount:"


def impersonate(
    requester: UserInfo,
    headers: Sequence[tuple[bytes, bytes]],
    authorize: Callable[[UserInfo, rbac.Attributes], None],
) -> UserInfo:
    """The user the ``Impersonate-*`` headers ask for (``requester`` without them).

    ``authorize(user, attributes)`` raises when the requester may not
    impersonate; every name asked for is checked.
    """
    name: str | None = None
    uid = ""
    groups: list[str] = []
    for key, value in headers:
        if key == b"impersonate-user":
            name = value.decode()
        elif key == b"impersonate-group":
            groups.append(value.decode())
        elif key == b"impersonate-uid":
            uid = value.decode()
    if name is None:
        if groups or uid:
            raise BadRequest("requested impersonation of groups or uid without impersonating a user")
        return requester
    if name.startswith(_SA_PREFIX) and name.count(":") == 3:
        namespace, account = name[len(_SA_PREFIX):].split(":")
        authorize(requester, rbac.Attributes(verb="impersonate", namespace=namespace,
                                             resource="serviceaccounts", name=account))
        if not groups:
            groups = [rbac.SERVICE_ACCOUNTS_GROUP, f"{rbac.SERVICE_ACCOUNTS_GROUP}:{namespace}"]
    else:
        authorize(requester, rbac.Attributes(verb="impersonate", resource="users", name=name))
    for group in groups:
        authorize(requester, rbac.Attributes(verb="impersonate", resource="groups", name=group))
    if uid:
        authorize(requester, rbac.Attributes(verb="impersonate", resource="uids", name=uid))
    extra_group = rbac.ALL_UNAUTHENTICATED if name == rbac.ANONYMOUS else rbac.ALL_AUTHENTICATED
    if extra_group not in groups:
        groups.append(extra_group)
    return UserInfo(name=name, groups=tuple(groups), uid=uid)
