"""One request as the handlers see it, and the server state they share.

:class:`ServerState` is what every handler reaches: the store, the client
that reads pod logs, the clock, authentication and authorization, the
cluster's fault injector (when the app serves a running cluster), the
round-robin turns of ``services/proxy``, and the event that tells open
streams the server is stopping.

:class:`Call` bundles the parsed :class:`~.requestinfo.RequestInfo`, the
authenticated user, the query (first value of each parameter, as
Kubernetes' conversions read them), the headers, and the body, read from the
ASGI ``receive`` only when a handler asks for it. It also carries the
options every write shares — ``dryRun``, ``fieldManager`` (defaulted from the
User-Agent like kube-apiserver), ``fieldValidation`` — and the warnings the
answer will carry.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.api.errors import ApiError, BadRequest
from sandbox.api.rbac import Authorizer, UserInfo
from sandbox.backends.inprocess.apiserver.negotiation import Output, negotiate_output
from sandbox.backends.inprocess.apiserver.requestinfo import RequestInfo
from sandbox.client.memory import MemoryClient
from sandbox.clock import Clock
from sandbox.store import Store

if TYPE_CHECKING:
    from sandbox.backends.inprocess.apiserver.auth import Authenticator
    from sandbox.backends.inprocess.apiserver.faults import Faults

__all__ = ["MAX_BODY_BYTES", "Call", "ServerState"]

#: kube-apiserver's limit on request bodies (3 MiB).
MAX_BODY_BYTES = 3 * 1024 * 1024


@dataclass
class ServerState:
    store: Store
    #: Pod logs are read through the in-memory client (pod lookup + the log source).
    pods: MemoryClient
    clock: Clock
    authenticator: Authenticator | None
    authorizer: Authorizer
    #: Seconds without events after which a watch that allows them gets a BOOKMARK.
    bookmark_interval: float = 60.0
    #: Set when the server stops: open watches and log streams end.
    shutdown: asyncio.Event = field(default_factory=asyncio.Event)
    #: Fault injection into the running cluster (``/sandbox/v1/faults/...``); None: 404.
    faults: Faults | None = None
    #: ``services/proxy``: the next endpoint to use, per (namespace, service, port name).
    proxy_turns: dict[tuple[str, str, str], int] = field(default_factory=dict)


class RequestEntityTooLarge(ApiError):
    code = 413
    reason = "RequestEntityTooLarge"


@dataclass
class Call:
    method: str
    info: RequestInfo
    user: UserInfo
    query: dict[str, str]
    headers: dict[bytes, bytes]
    receive: Any
    #: The raw query string (``pods/proxy`` passes it on as sent).
    query_string: bytes = b""
    #: The client's address, when the server knows it (``X-Forwarded-For`` of a proxied call).
    client_host: str = ""
    warnings: list[str] = field(default_factory=list)
    _body: bytes | None = None
    _output: Output | None = None

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return value.decode("latin-1") if value is not None else None

    @property
    def output(self) -> Output:
        if self._output is None:
            self._output = negotiate_output(self.header(b"accept"))
        return self._output

    async def body(self) -> bytes:
        if self._body is None:
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await self.receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise RequestEntityTooLarge(
                        f"Request entity too large: limit is {MAX_BODY_BYTES}"
                    )
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            self._body = b"".join(chunks)
        return self._body

    # Options shared by writes ------------------------------------------------

    @property
    def dry_run(self) -> bool:
        values = self.query.get("dryRun")
        if not values:
            return False
        if values != "All":
            raise BadRequest(f'Invalid dry run value: "{values}": supported values: "All"')
        return True

    @property
    def field_manager(self) -> str:
        """``fieldManager``, or the User-Agent's program name like kube-apiserver."""
        manager = self.query.get("fieldManager")
        if manager:
            if len(manager) > 128:
                raise BadRequest("fieldManager: Too long: must have at most 128 bytes")
            return manager
        agent = self.header(b"user-agent") or ""
        return agent.split("/", 1)[0][:128] or "unknown"

    @property
    def field_validation(self) -> str:
        """``Strict``, ``Warn`` (Kubernetes' default) or ``Ignore``."""
        value = self.query.get("fieldValidation") or "Warn"
        if value not in ("Strict", "Warn", "Ignore"):
            raise BadRequest(
                f"fieldValidation: Unsupported value: \"{value}\": supported values: "
                '"Ignore", "Strict", "Warn"'
            )
        return value
