"""What a request is about: Kubernetes' RequestInfo, read from method, path and query.

Authorization and routing both need the same facts — is this a resource
request, which verb (``get``/``list``/``watch``/``create``/``update``/
``patch``/``delete``/``deletecollection``), API group and version,
namespace, resource, name and subresource — so they are computed once, the
way kube-apiserver's ``RequestInfoFactory`` does:

- ``/api/v1/...`` and ``/apis/<group>/<version>/...`` are resource requests;
  everything else (``/version``, ``/healthz``, ``/api``, ``/apis/apps``,
  ``/openapi/v2``) is a non-resource request whose verb is the lower-cased
  method;
- ``namespaces/<ns>/<resource>/...`` puts the namespace aside, except for a
  Namespace's own subresources (``status``, ``finalize``);
- a GET without a name is a ``list``, or a ``watch`` when the ``watch``
  query parameter is true; a DELETE without a name is a
  ``deletecollection``; the legacy ``/watch/`` path prefix is a watch;
- a list or watch selecting one name (``fieldSelector=metadata.name=x``)
  carries that name, so RBAC ``resourceNames`` rules apply to it;
- what follows a subresource is its ``subpath``, kept as sent (empty
  segments and a trailing slash included) the way kube-apiserver hands it to
  ``pods/proxy`` and ``services/proxy``: ``.../proxy/a//b/`` → ``/a//b/``,
  ``.../proxy/`` → ``/``, ``.../proxy`` → ``""``.

Query parameters are read like Kubernetes' conversions do: see
:func:`query_bool`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sandbox.api.errors import BadRequest

__all__ = ["RequestInfo", "parse_request_info", "query_bool", "query_int"]

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_METHOD_VERBS = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


def query_bool(query: Mapping[str, str], name: str) -> bool:
    """Kubernetes' rule for boolean query parameters: absent, ``0`` or ``false``
    (any case) is false; anything else — ``true``, ``True``, ``1``, even an
    empty value — is true."""
    value = query.get(name)
    if value is None:
        return False
    return not (value == "0" or value.lower() == "false")


def query_int(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


@dataclass(frozen=True, slots=True)
class RequestInfo:
    path: str
    verb: str
    resource_request: bool = False
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    #: The path segments from the resource on (``pods/web/log``).
    parts: tuple[str, ...] = ()
    #: The legacy ``/watch/`` path prefix was used.
    watch_prefix: bool = False
    #: The one name a list or watch selects with ``fieldSelector=metadata.name=...``.
    selected_name: str = ""
    #: The path after the subresource (``/a/b`` of ``pods/web/proxy/a/b``), see the module doc.
    subpath: str = ""

    @property
    def authz_name(self) -> str:
        """The name RBAC ``resourceNames`` rules see."""
        return self.name or self.selected_name


def _selected_name(field_selector: str | None) -> str:
    """``metadata.name=x`` (alone or among other terms) names the one object listed."""
    for term in (field_selector or "").split(","):
        term = term.strip()
        for op in ("metadata.name==", "metadata.name="):
            if term.startswith(op):
                value = term[len(op):].strip()
                if value and "/" not in value and value not in (".", ".."):
                    return value
                return ""
    return ""


def parse_request_info(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    """Kubernetes' RequestInfo of one request."""
    segments = [s for s in path.strip("/").split("/") if s] if path.strip("/") else []
    if not segments or segments[0] not in ("api", "apis"):
        return RequestInfo(path=path, verb=method.lower())
    prefix = segments[0]
    rest = segments[1:]
    if prefix == "apis":
        if len(rest) < 3:
            return RequestInfo(path=path, verb=method.lower())
        group, version, rest = rest[0], rest[1], rest[2:]
    else:
        if len(rest) < 2:
            return RequestInfo(path=path, verb=method.lower())
        group, version, rest = "", rest[0], rest[1:]

    verb = _METHOD_VERBS.get(method, "")
    watch_prefix = False
    if rest[0] in ("watch", "proxy"):
        if len(rest) < 2:
            raise BadRequest(f"unable to determine kind and namespace from url: {path}")
        verb, rest, watch_prefix = rest[0], rest[1:], rest[0] == "watch"

    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]

    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 and verb != "proxy" else ""

    if not name and verb == "get":
        verb = "watch" if query_bool(query, "watch") else "list"
    selected = _selected_name(query.get("fieldSelector")) if verb in ("list", "watch") else ""
    if not name and verb == "delete":
        verb = "deletecollection"
    subpath = _subpath(path, len(segments) - len(rest) + 3) if subresource else ""
    return RequestInfo(
        path=path, verb=verb, resource_request=True, api_prefix=prefix, api_group=group,
        api_version=version, namespace=namespace, resource=resource, subresource=subresource,
        name=name, parts=tuple(rest), watch_prefix=watch_prefix, selected_name=selected,
        subpath=subpath,
    )


def _subpath(path: str, consumed: int) -> str:
    """What follows the first ``consumed`` non-empty segments of ``path``, as sent."""
    raw = path.strip("/").split("/")
    seen = index = 0
    while index < len(raw) and seen < consumed:
        if raw[index]:
            seen += 1
        index += 1
    subpath = "/".join(raw[index:])
    if subpath:
        subpath = "/" + subpath
    if path.endswith("/") and not subpath.endswith("/"):
        subpath += "/"
    return subpath
