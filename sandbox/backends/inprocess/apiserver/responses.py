"""Answers as raw ASGI messages: JSON/YAML objects, Status errors, plain text.

Every handler returns something callable as ``await answer(scope, receive,
send)``: a complete :class:`Reply` here, or a stream (watch events, a
followed log) from :mod:`.watch`/:mod:`.logs`. Writing the two ASGI messages
directly — no response class building headers per request — keeps the
per-request cost to a ``json.dumps``, which matters for ``kubectl get``'s
round trip.

Errors are always a ``Status`` with the HTTP code of its ``code`` field
(kubectl invents vaguer messages for anything else); ``Warning`` headers
carry Kubernetes' ``299 - "text"`` warnings (``fieldValidation=Warn``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import yaml

from sandbox.api.errors import ApiError, NotFound

__all__ = [
    "Reply",
    "dumps",
    "json_reply",
    "not_found",
    "status_reply",
    "success_status",
    "text_reply",
    "warning_header",
]

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

Header = tuple[bytes, bytes]


def dumps(obj: Any, *, pretty: bool = False) -> bytes:
    if pretty:
        return json.dumps(obj, indent=2).encode() + b"\n"
    return json.dumps(obj, separators=(",", ":")).encode()


class Reply:
    """A complete HTTP answer."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self, status: int, body: bytes, content_type: bytes, headers: Iterable[Header] = ()
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = list(headers)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [
            (b"content-type", self.content_type),
            (b"content-length", str(len(self.body)).encode()),
            *self.headers,
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})


def warning_header(text: str) -> Header:
    """Kubernetes' ``Warning: 299 - "text"`` header."""
    return b"warning", ('299 - "' + text.replace('"', '\\"') + '"').encode()


def json_reply(
    obj: Any, status: int = 200, *, as_yaml: bool = False, pretty: bool = False,
    headers: Iterable[Header] = (),
) -> Reply:
    if as_yaml:
        text = yaml.dump(obj, Dumper=_Dumper, default_flow_style=False, sort_keys=False)
        return Reply(status, text.encode(), b"application/yaml", headers)
    return Reply(status, dumps(obj, pretty=pretty), b"application/json", headers)


def status_reply(err: ApiError, *, headers: Iterable[Header] = ()) -> Reply:
    return Reply(err.code, dumps(err.status), b"application/json", headers)


def success_status(code: int = 200, *, details: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Success", "code": code}
    if details:
        status["details"] = details
    return status


def not_found() -> NotFound:
    """kube-apiserver's answer for a path it does not serve."""
    return NotFound("the server could not find the requested resource")


def text_reply(text: str, status: int = 200, *, headers: Iterable[Header] = ()) -> Reply:
    return Reply(status, text.encode(), b"text/plain; charset=utf-8", headers)
