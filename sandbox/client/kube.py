"""The real-cluster client: the client protocol over Kubernetes REST (httpx).

:class:`KubeClient` is what controllers use when the cluster is not in this
process — a kind cluster, or the sandbox's own API server reached over
HTTPS. It speaks the same protocol as
:class:`~sandbox.client.memory.MemoryClient` and passes the same contract
tests (``tests/contract/``), so code above ``client/`` cannot tell them apart.

Data flow of one call::

    get("apps/v1", "Deployment", "web")
      └─ discovery: "apps/v1" → GET /apis/apps/v1 (once, cached) → deployments, namespaced
      └─ GET /apis/apps/v1/namespaces/<ns>/deployments/web  (Bearer token, CA-verified TLS)
      └─ 2xx: the JSON object │ otherwise: the Status body → sandbox.api.errors (from_status)

Choices, and why:

- **Discovery per group-version, cached, refetched on a miss.** A kind maps
  to its plural and scope only through ``/api/v1`` or ``/apis/<g>/<v>``; a
  kind missing from the cached document makes us fetch it again, so kinds a
  CRD registers after we started are found (kubectl does the same). A kind
  the server does not serve raises ``UnknownKind`` (a ``NotFound``) with
  kubectl's ``no matches for kind`` message.
- **Errors are the server's Status.** Every non-2xx answer becomes the
  matching :mod:`sandbox.api.errors` class through ``from_status``; a body
  that is not a Status gets client-go's generic message for its code
  (``the server could not find the requested resource (get pods web)``),
  and a 409 to a POST is ``AlreadyExists`` as in client-go. An unreachable
  server is ``ServiceUnavailable`` naming the URL.
- **Watches are streamed NDJSON**, one event per line; an ERROR event whose
  Status has code 410 raises ``Gone`` (the caller relists), like a 410 answer
  to the request itself; other ERROR events are yielded as the protocol
  says. ``timeout_seconds`` is the server's ``timeoutSeconds``, so a watch
  ends when the server ends it; no client-side read timeout applies to
  watches and followed logs.
- **Namespaces**: a namespaced object named without a namespace lives in the
  kubeconfig context's namespace (MemoryClient's ``default_namespace``);
  ``list``/``watch`` without one span all namespaces, like ``-A``.
- **Raw requests** (:meth:`KubeClient.request`) reach what has no kind:
  ``pods/proxy`` and ``services/proxy``, or the sandbox's own fault
  endpoints. They carry the same credentials and TLS, and an unreachable
  server is the same ``ServiceUnavailable``; HTTP error statuses are left to
  the caller, who knows what the answer means.
- **HTTP/1.1 and TLS** with the kubeconfig's CA through an ``ssl`` context;
  bearer tokens and client certificates; no connection limit (each watch
  holds one connection, as in client-go over HTTP/1.1). Tests inject an
  ``httpx`` transport (``ASGITransport`` over the API server app,
  ``MockTransport``) instead of a socket.
"""

from __future__ import annotations

import asyncio
import json
import math
import ssl
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from sandbox.api.errors import (
    ApiError,
    BadRequest,
    Gone,
    InternalError,
    ServiceUnavailable,
    from_status,
)
from sandbox.api.kinds import UnknownKind, split_api_version
from sandbox.api.selectors import LabelSelector
from sandbox.client.kubeconfig import load_kubeconfig
from sandbox.client.protocol import PatchType, PropagationPolicy, WatchEvent
from sandbox.client.waiting import WaitMixin
from sandbox.clock import Clock, SystemClock

__all__ = ["PATCH_CONTENT_TYPES", "KubeClient"]

PATCH_CONTENT_TYPES: dict[str, str] = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    # Server-side apply takes YAML; JSON is YAML, and our objects are JSON.
    "apply": "application/apply-patch+yaml",
}

_USER_AGENT = "kf-sandbox/0.1 (sandbox.client.kube; httpx)"

# client-go's NewGenericServerResponse: (reason, message) for an answer that
# is not a Status; None keeps the server's own text.
_GENERIC: dict[int, tuple[str, str | None]] = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    403: ("Forbidden", None),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    406: ("NotAcceptable", None),
    409: ("Conflict", "the server reported a conflict"),
    415: ("UnsupportedMediaType", None),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests",
          "the server has received too many requests and has asked us to try again later"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, "
                     "but may still be processing the request"),
}


@dataclass(frozen=True)
class _Resource:
    """What discovery says of one kind: where its objects live."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool

    def path(
        self, namespace: str | None, name: str | None = None, subresource: str | None = None
    ) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{quote(name, safe='')}"
            if subresource:
                base += f"/{subresource}"
        return base

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _ssl_context(
    *, ca_data: bytes | None, verify: bool, client_cert: tuple[bytes, bytes] | None
) -> ssl.SSLContext:
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_data:
        pem = ca_data.lstrip().startswith(b"-----")
        context = ssl.create_default_context(cadata=ca_data.decode("ascii") if pem else ca_data)
    else:
        context = ssl.create_default_context()
    if client_cert is not None:
        # ssl loads a certificate chain only from files: write them briefly
        # into a private directory.
        cert, key = client_cert
        with tempfile.TemporaryDirectory(prefix="kf-sandbox-tls-") as tmp:
            cert_file, key_file = Path(tmp) / "client.crt", Path(tmp) / "client.key"
            cert_file.write_bytes(cert)
            key_file.touch(mode=0o600)
            key_file.write_bytes(key)
            context.load_cert_chain(cert_file, key_file)
    return context


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _label_selector(selector: str | Mapping[str, Any] | None) -> str | None:
    """The query form of a selector; a ``{matchLabels, matchExpressions}`` dict is rendered."""
    if selector is None:
        return None
    if isinstance(selector, str):
        return selector or None
    return str(LabelSelector.from_dict(selector)) or None


def _api_version_kind(obj: Mapping[str, Any]) -> tuple[str, str]:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not api_version or not kind:
        raise BadRequest("Object 'Kind' is missing in the request body" if not kind
                         else "Object 'apiVersion' is missing in the request body")
    return str(api_version), str(kind)


def _error(response: httpx.Response, body: bytes, *, resource: str, name: str) -> ApiError:
    """The :mod:`sandbox.api.errors` class a non-2xx answer means."""
    code = response.status_code
    try:
        status = json.loads(body) if body else None
    except ValueError:
        status = None
    if isinstance(status, dict) and status.get("kind") == "Status":
        return from_status(status, code=code)
    text = body.decode("utf-8", "replace").strip()
    method = response.request.method
    reason, message = _GENERIC.get(code, ("", None))
    if code == 409 and method == "POST":
        reason = "AlreadyExists"
    if message is None:
        if code in _GENERIC:
            message = text
        elif code >= 500:
            reason, message = "InternalError", (
                f'an error on the server ("{text}") has prevented the request from succeeding'
            )
        else:
            message = f"the server responded with the status code {code} but did not return more information"
    if resource:
        message += f" ({method.lower()} {resource} {name})" if name else f" ({method.lower()} {resource})"
    return from_status(
        {"kind": "Status", "status": "Failure", "code": code, "reason": reason, "message": message},
        code=code,
    )


class KubeClient(WaitMixin):
    """The client protocol over any Kubernetes API server. See the module docstring."""

    def __init__(
        self,
        *,
        server: str,
        token: str | None = None,
        ca_data: bytes | None = None,
        verify: bool = True,
        client_cert: tuple[bytes, bytes] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        namespace: str = "default",
        field_manager: str = "sandbox",
        timeout: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self.default_namespace = namespace
        self.field_manager = field_manager
        self.clock = clock or SystemClock()
        headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # Watches and followed logs may be quiet for as long as they like.
        self._stream_timeout = httpx.Timeout(timeout, read=None)
        self._http = httpx.AsyncClient(
            base_url=self.server,
            headers=headers,
            transport=transport,
            verify=True if transport is not None else _ssl_context(
                ca_data=ca_data, verify=verify, client_cert=client_cert),
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
            http1=True,
            http2=False,
        )
        self._kinds: dict[str, dict[str, _Resource]] = {}
        self._discovery_lock = asyncio.Lock()

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | Path | None = None,
        *,
        context: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        field_manager: str = "sandbox",
        clock: Clock | None = None,
    ) -> KubeClient:
        """A client for a kubeconfig's context (``KUBECONFIG`` and ``~/.kube/config`` by default)."""
        config = load_kubeconfig(path, context=context)
        client_cert = None
        if config.client_cert_data and config.client_key_data:
            client_cert = (config.client_cert_data, config.client_key_data)
        return cls(
            server=config.server,
            token=config.token,
            ca_data=config.ca_data,
            verify=not config.insecure_skip_tls_verify,
            client_cert=client_cert,
            transport=transport,
            namespace=config.namespace,
            field_manager=field_manager,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"KubeClient(server={self.server!r}, namespace={self.default_namespace!r})"

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections (open watches end)."""
        await self._http.aclose()

    # Discovery --------------------------------------------------------------------

    async def _resource(self, api_version: str, kind: str) -> _Resource:
        known = self._kinds.get(api_version)
        if known is not None and kind in known:
            return known[kind]
        async with self._discovery_lock:
            # Another task may have refreshed this group-version meanwhile.
            if self._kinds.get(api_version) is known or kind not in self._kinds[api_version]:
                self._kinds[api_version] = await self._discover(api_version)
        found = self._kinds[api_version].get(kind)
        if found is None:
            raise UnknownKind.kind(api_version, kind)
        return found

    async def _discover(self, api_version: str) -> dict[str, _Resource]:
        """The kinds one group-version serves (``/api/v1``, ``/apis/<g>/<v>``)."""
        group, version = split_api_version(api_version)
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            document = await self._request("GET", path)
        except ApiError as e:
            if e.code == 404:
                return {}
            raise
        kinds: dict[str, _Resource] = {}
        for entry in document.get("resources") or ():
            plural = str(entry.get("name") or "")
            if not plural or "/" in plural or entry.get("kind") in kinds:
                continue  # subresources are listed as "pods/status"
            kinds[str(entry["kind"])] = _Resource(
                group, version, plural, str(entry["kind"]), bool(entry.get("namespaced"))
            )
        return kinds

    def _namespace(self, rt: _Resource, namespace: str | None) -> str | None:
        if not rt.namespaced:
            return None
        return namespace or self.default_namespace

    # HTTP -------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        resource: str = "",
        name: str = "",
    ) -> Any:
        headers = {}
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        try:
            response = await self._http.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.TransportError as e:
            raise self._unreachable(e) from e
        if response.is_error:
            raise _error(response, response.content, resource=resource, name=name)
        if not response.content:
            return {}
        return response.json()

    async def _stream_lines(
        self, path: str, params: Mapping[str, str], *, resource: str, name: str = ""
    ) -> AsyncIterator[str]:
        """The lines of a streamed answer (watch events, followed logs)."""
        try:
            async with self._http.stream(
                "GET", path, params=params, timeout=self._stream_timeout
            ) as response:
                if response.is_error:
                    body = await response.aread()
                    raise _error(response, body, resource=resource, name=name)
                async for line in response.aiter_lines():
                    yield line
        except httpx.TransportError as e:
            raise self._unreachable(e) from e

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """A raw authenticated request to ``path`` on the server; the whole answer.

        For what the protocol has no verb for (``.../services/web:80/proxy/``,
        ``/sandbox/v1/faults/...``). ``json`` is sent as a JSON body, ``content``
        as is (not both); ``timeout`` (seconds) replaces the client's for this
        request. An HTTP error status is returned, not raised; an unreachable
        server raises :class:`~sandbox.api.errors.ServiceUnavailable`.
        """
        if json is not None and content is not None:
            raise ValueError("pass json or content, not both")
        options: dict[str, Any] = {}
        if timeout is not None:
            options["timeout"] = httpx.Timeout(timeout)
        try:
            return await self._http.request(
                method, path, params=params, json=json, content=content, headers=headers,
                **options,
            )
        except httpx.TransportError as e:
            raise self._unreachable(e) from e

    def _unreachable(self, error: httpx.TransportError) -> ServiceUnavailable:
        detail = str(error) or type(error).__name__
        return ServiceUnavailable(f"cannot reach the API server at {self.server}: {detail}")

    # Reads ------------------------------------------------------------------------

    async def get(
        self, api_version: str, kind: str, name: str, *, namespace: str | None = None
    ) -> dict[str, Any]:
        rt = await self._resource(api_version, kind)
        return await self._request(
            "GET", rt.path(self._namespace(rt, namespace), name), resource=rt.qualified, name=name
        )

    async def list(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        rt = await self._resource(api_version, kind)
        params: dict[str, str] = {}
        selector = _label_selector(label_selector)
        if selector:
            params["labelSelector"] = selector
        if field_selector:
            params["fieldSelector"] = field_selector
        if limit:
            params["limit"] = str(limit)
        if continue_:
            params["continue"] = continue_
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        return await self._request(
            "GET", rt.path(namespace), params=params,
            resource=rt.qualified,
        )

    async def watch(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | None = None,
        allow_bookmarks: bool = False,
        timeout_seconds: float | None = None,
        shared_objects: bool = False,  # every event is decoded afresh: nothing is shared
    ) -> AsyncIterator[WatchEvent]:
        rt = await self._resource(api_version, kind)
        params: dict[str, str] = {"watch": "true"}
        if resource_version:
            params["resourceVersion"] = resource_version
        selector = _label_selector(label_selector)
        if selector:
            params["labelSelector"] = selector
        if field_selector:
            params["fieldSelector"] = field_selector
        if allow_bookmarks:
            params["allowWatchBookmarks"] = "true"
        if timeout_seconds is not None:
            # The API takes whole seconds; never end earlier than asked.
            params["timeoutSeconds"] = str(math.ceil(timeout_seconds))
        path = rt.path(namespace)
        async for line in self._stream_lines(path, params, resource=rt.qualified):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                type_, obj = event["type"], event.get("object") or {}
            except (ValueError, KeyError, TypeError):
                raise InternalError(f"the server sent a malformed watch event: {line[:200]!r}") from None
            if type_ == "ERROR" and obj.get("code") == Gone.code:
                raise from_status(obj, code=Gone.code)
            yield WatchEvent(type_, obj)

    # Writes -----------------------------------------------------------------------

    def _write_params(self, *, dry_run: bool, field_manager: str | None) -> dict[str, str]:
        params = {"fieldManager": field_manager or self.field_manager}
        if dry_run:
            params["dryRun"] = "All"
        return params

    async def create(
        self,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        brief: bool = False,  # the server answers with the whole object anyway
    ) -> dict[str, Any]:
        api_version, kind = _api_version_kind(obj)
        rt = await self._resource(api_version, kind)
        body_ns = (obj.get("metadata") or {}).get("namespace")
        return await self._request(
            "POST", rt.path(self._namespace(rt, namespace or body_ns)),
            params=self._write_params(dry_run=dry_run, field_manager=field_manager),
            body=obj, resource=rt.qualified,
        )

    async def replace(
        self,
        obj: Mapping[str, Any],
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        api_version, kind = _api_version_kind(obj)
        rt = await self._resource(api_version, kind)
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        if not name:
            raise BadRequest("name is required for an update")
        return await self._request(
            "PUT", rt.path(self._namespace(rt, meta.get("namespace")), name, subresource),
            params=self._write_params(dry_run=dry_run, field_manager=field_manager),
            body=obj, resource=rt.qualified, name=name,
        )

    async def _patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        *,
        namespace: str | None,
        patch_type: PatchType,
        subresource: str | None,
        field_manager: str | None,
        force: bool,
        dry_run: bool,
    ) -> dict[str, Any]:
        content_type = PATCH_CONTENT_TYPES.get(patch_type)
        if content_type is None:
            raise BadRequest(f"unsupported patch type {patch_type!r}")
        rt = await self._resource(api_version, kind)
        params = self._write_params(dry_run=dry_run, field_manager=field_manager)
        if patch_type == "apply":
            params["force"] = _bool(force)  # Kubernetes refuses force on other patch types
        return await self._request(
            "PATCH", rt.path(self._namespace(rt, namespace), name, subresource),
            params=params, body=patch, content_type=content_type,
            resource=rt.qualified, name=name,
        )

    async def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
        force: bool = False,
        dry_run: bool = False,
        brief: bool = False,  # the server answers with the whole object anyway
    ) -> dict[str, Any]:
        return await self._patch(
            api_version, kind, name, patch, namespace=namespace, patch_type=patch_type,
            subresource=None, field_manager=field_manager, force=force, dry_run=dry_run,
        )

    async def replace_status(
        self, obj: Mapping[str, Any], *, field_manager: str | None = None, brief: bool = False
    ) -> dict[str, Any]:
        return await self.replace(obj, subresource="status", field_manager=field_manager)

    async def patch_status(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        return await self._patch(
            api_version, kind, name, patch, namespace=namespace, patch_type=patch_type,
            subresource="status", field_manager=field_manager, force=False, dry_run=False,
        )

    async def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        rt = await self._resource(api_version, kind)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy is not None:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            options["preconditions"] = dict(preconditions)
        if dry_run:
            options["dryRun"] = ["All"]
        return await self._request(
            "DELETE", rt.path(self._namespace(rt, namespace), name), body=options,
            resource=rt.qualified, name=name,
        )

    # Logs -------------------------------------------------------------------------

    @staticmethod
    def _log_params(
        *,
        container: str | None,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
    ) -> dict[str, str]:
        params: dict[str, str] = {}
        if container:
            params["container"] = container
        if tail_lines is not None:
            params["tailLines"] = str(tail_lines)
        if since_seconds is not None:
            params["sinceSeconds"] = str(since_seconds)
        if timestamps:
            params["timestamps"] = "true"
        return params

    def _log_path(self, name: str, namespace: str) -> str:
        return f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(name, safe='')}/log"

    async def logs(
        self,
        name: str,
        *,
        namespace: str,
        container: str | None = None,
        previous: bool = False,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
    ) -> str:
        params = self._log_params(container=container, tail_lines=tail_lines,
                                  since_seconds=since_seconds, timestamps=timestamps)
        if previous:
            params["previous"] = "true"
        try:
            response = await self._http.get(self._log_path(name, namespace), params=params)
        except httpx.TransportError as e:
            raise self._unreachable(e) from e
        if response.is_error:
            raise _error(response, response.content, resource="pods", name=name)
        return response.text

    async def follow_logs(
        self,
        name: str,
        *,
        namespace: str,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[str]:
        params = self._log_params(container=container, tail_lines=tail_lines,
                                  since_seconds=since_seconds, timestamps=timestamps)
        params["follow"] = "true"
        async for line in self._stream_lines(
            self._log_path(name, namespace), params, resource="pods", name=name
        ):
            yield line
