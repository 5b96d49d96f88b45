"""The Kubernetes REST API of one in-process cluster, as an ASGI app.

Every request goes through the same short pipeline, as in kube-apiserver::

    authenticate (bearer token → user)           auth.Authenticator      401
    impersonate (Impersonate-User/-Group)        auth.impersonate        403
    request info (verb, group, resource, name)   requestinfo             400
    authorize (RBAC; system:masters always)      sandbox.api.rbac        403 (401 if anonymous)
    route:
      /version /healthz /livez /readyz           this module
      /api /apis /api/v1 /apis/<g>[/<v>]         discovery (cached documents)
      /openapi/v2 /openapi/v3[/...]              openapi (cached documents)
      /api/v1/...  /apis/<g>/<v>/...             handlers → store (and watch, logs,
                                                 subresources, reviews, pods/services proxy)
      /sandbox/v1/faults/...                     faults (a sandbox addition; 404 without a cluster)
      anything else                              404 Status

Every failure is answered as the ``Status`` of its
:class:`~sandbox.api.errors.ApiError` (an unexpected exception is a 500
``InternalError`` and is logged). The app is a Starlette application with
one catch-all route to :class:`ApiApp`, so there is no per-request
middleware stack beyond Starlette's router; the pipeline itself is a few
dict lookups and the handler.

Without an authenticator every request is the admin (``kubernetes-admin`` in
``system:masters``) — for tests and embedding; :class:`.server.ApiServer`
always authenticates.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.routing import Route

from sandbox.api import rbac
from sandbox.api.errors import ApiError, InternalError, Unauthorized
from sandbox.api.kinds import KindRegistry
from sandbox.backends.inprocess.apiserver import discovery, handlers, openapi
from sandbox.backends.inprocess.apiserver.auth import (
    ADMIN_GROUP,
    ADMIN_USER,
    Authenticator,
    impersonate,
)
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.faults import FAULTS_PREFIX, Faults, FaultTarget
from sandbox.backends.inprocess.apiserver.faults import handle as handle_fault
from sandbox.backends.inprocess.apiserver.health import health_reply, version_reply
from sandbox.backends.inprocess.apiserver.rbacsource import store_authorizer
from sandbox.backends.inprocess.apiserver.requestinfo import RequestInfo, parse_request_info
from sandbox.backends.inprocess.apiserver.responses import Reply, not_found, status_reply
from sandbox.client.memory import LogSource, MemoryClient
from sandbox.clock import Clock
from sandbox.store import Store

__all__ = ["ADMIN", "ApiApp", "create_app"]

log = logging.getLogger(__name__)

#: Who every request is when the app runs without authentication.
ADMIN = rbac.UserInfo(name=ADMIN_USER, groups=(ADMIN_GROUP, rbac.ALL_AUTHENTICATED))

_HEALTH = ("/healthz", "/livez", "/readyz")


def create_app(
    *,
    store: Store,
    log_source: LogSource | None = None,
    authenticator: Authenticator | None = None,
    authorizer: rbac.Authorizer | None = None,
    clock: Clock | None = None,
    bookmark_interval: float = 60.0,
    faults: FaultTarget | None = None,
) -> Starlette:
    """The REST API over ``store`` (pod logs from ``log_source``).

    ``authorizer`` defaults to RBAC over the store's own Roles and bindings;
    ``authenticator`` None means every request is the admin. ``faults`` is
    the running cluster ``/sandbox/v1/faults/...`` acts on (an
    :class:`~sandbox.backends.inprocess.cluster.InProcessCluster`); without
    one those paths are 404. The returned app's ``state.api`` is the
    :class:`ApiApp` (``state.api.state.shutdown`` ends open streams).
    """
    clock = clock or store.clock
    pods = MemoryClient(store, logs=log_source, clock=clock)
    api = ApiApp(ServerState(
        store=store,
        pods=pods,
        clock=clock,
        authenticator=authenticator,
        authorizer=authorizer or store_authorizer(store),
        bookmark_interval=bookmark_interval,
        faults=None if faults is None else Faults(faults, client=pods, clock=clock),
    ))
    app = Starlette(routes=[Route("/{path:path}", api)])
    app.state.api = api
    return app


class ApiApp:
    """The ASGI handler behind the catch-all route (see the module docstring)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    @property
    def registry(self) -> KindRegistry:
        return self.state.store.registry

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        try:
            answer = await self._answer(scope, receive)
        except ApiError as err:
            answer = status_reply(err)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            answer = status_reply(InternalError(
                'an error on the server ("Internal Server Error") has prevented the request from '
                "succeeding"
            ))
        await answer(scope, receive, send)

    async def _answer(self, scope: dict[str, Any], receive: Any) -> Any:
        method: str = scope["method"]
        path: str = scope["path"]
        headers: dict[bytes, bytes] = dict(scope["headers"])
        raw_query: bytes = scope.get("query_string", b"")
        query = dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)) \
            if raw_query else {}
        state = self.state
        if state.authenticator is None:
            user = ADMIN
        else:
            authorization = headers.get(b"authorization")
            user = state.authenticator.authenticate(
                authorization.decode("latin-1") if authorization is not None else None)
        if b"impersonate-user" in headers or b"impersonate-group" in headers:
            user = impersonate(user, scope["headers"], self._check)
        info = parse_request_info(method, path, query)
        self._authorize(user, info)
        client = scope.get("client")
        call = Call(method=method, info=info, user=user, query=query, headers=headers,
                    receive=receive, query_string=raw_query,
                    client_host=str(client[0]) if client else "")
        if info.resource_request:
            return await handlers.handle_resource(state, call)
        if info.path.startswith(FAULTS_PREFIX):
            return await handle_fault(state, call)
        return self._non_resource(call)

    def _authorize(self, user: rbac.UserInfo, info: RequestInfo) -> None:
        if rbac.SYSTEM_MASTERS in user.groups:
            return
        self._check(user, rbac.Attributes(
            verb=info.verb, namespace=info.namespace, api_group=info.api_group,
            resource=info.resource, subresource=info.subresource, name=info.authz_name,
            path=info.path, resource_request=info.resource_request,
        ))

    def _check(self, user: rbac.UserInfo, attrs: rbac.Attributes) -> None:
        """Raise 403 (401 for the anonymous user) unless RBAC allows ``attrs``."""
        allowed, reason = self.state.authorizer.authorize(user, attrs)
        if allowed:
            return
        if rbac.ALL_UNAUTHENTICATED in user.groups:
            # No credentials at all: ask for them rather than forbid.
            raise Unauthorized("Unauthorized")
        raise rbac.forbidden(user, attrs, reason=reason)

    def _non_resource(self, call: Call) -> Reply:
        path = call.info.path.rstrip("/") or "/"
        if call.method not in ("GET", "HEAD"):
            raise not_found()
        if path == "/version":
            return version_reply()
        if path.startswith(_HEALTH):
            return health_reply(path, call.query, stopping=self.state.shutdown.is_set())
        accept = call.header(b"accept")
        if path == "/api" or path == "/apis" or path.startswith(("/api/", "/apis/")):
            document = discovery.discovery_document(self.registry, path, accept=accept)
        elif path.startswith("/openapi/") or path == "/swagger-2.0.0.pb-v1":
            document = openapi.openapi_document(self.registry, path, accept=accept)
        else:
            raise not_found()
        return _document_reply(document, call)


def _document_reply(document: discovery.Document, call: Call) -> Reply:
    headers = [(b"etag", document.etag.encode()), (b"vary", b"Accept")]
    if call.header(b"if-none-match") == document.etag:
        return Reply(304, b"", document.content_type.encode(), headers)
    if "gzip" in (call.header(b"accept-encoding") or ""):
        headers.append((b"content-encoding", b"gzip"))
        return Reply(200, document.gzipped, document.content_type.encode(), headers)
    return Reply(200, document.body, document.content_type.encode(), headers)
