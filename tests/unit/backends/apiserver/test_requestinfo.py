"""RequestInfo: verb, group, namespace, resource, name and subresource, as kube-apiserver reads them."""

from __future__ import annotations

import pytest

from sandbox.api.errors import BadRequest
from sandbox.backends.inprocess.apiserver.requestinfo import parse_request_info, query_bool


@pytest.mark.parametrize(("method", "path", "query", "expected"), [
    ("GET", "/api/v1/namespaces/x/pods", {}, ("list", "", "x", "pods", "", "")),
    ("GET", "/api/v1/pods", {"watch": "true"}, ("watch", "", "", "pods", "", "")),
    ("GET", "/api/v1/namespaces/x/pods/web/log", {}, ("get", "", "x", "pods", "web", "log")),
    ("POST", "/apis/apps/v1/namespaces/x/deployments", {}, ("create", "apps", "x", "deployments", "", "")),
    ("PUT", "/apis/apps/v1/namespaces/x/deployments/w/scale", {},
     ("update", "apps", "x", "deployments", "w", "scale")),
    ("PATCH", "/api/v1/nodes/n1", {}, ("patch", "", "", "nodes", "n1", "")),
    ("DELETE", "/api/v1/namespaces/x/pods", {}, ("deletecollection", "", "x", "pods", "", "")),
    ("DELETE", "/api/v1/namespaces/x/pods/a", {}, ("delete", "", "x", "pods", "a", "")),
    # A Namespace is its own namespace; status and finalize are its subresources.
    ("GET", "/api/v1/namespaces/x", {}, ("get", "", "x", "namespaces", "x", "")),
    ("PUT", "/api/v1/namespaces/x/finalize", {}, ("update", "", "x", "namespaces", "x", "finalize")),
    ("GET", "/api/v1/watch/namespaces/x/pods/a", {}, ("watch", "", "x", "pods", "a", "")),
])
def test_resource_requests(method: str, path: str, query: dict, expected: tuple) -> None:
    info = parse_request_info(method, path, query)
    assert info.resource_request
    assert (info.verb, info.api_group, info.namespace, info.resource, info.name,
            info.subresource) == expected


@pytest.mark.parametrize("path", ["/version", "/healthz", "/api", "/api/v1", "/apis/apps",
                                  "/apis/apps/v1", "/openapi/v2"])
def test_non_resource_requests_use_the_method_as_verb(path: str) -> None:
    info = parse_request_info("GET", path, {})
    assert not info.resource_request and info.verb == "get" and info.path == path


def test_a_list_selecting_one_name_is_authorized_for_that_name() -> None:
    info = parse_request_info("GET", "/api/v1/namespaces/x/pods",
                              {"fieldSelector": "metadata.name=web", "watch": "1"})
    assert (info.verb, info.name, info.authz_name) == ("watch", "", "web")


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("True", True), ("1", True), ("t", True), ("", True),
    ("false", False), ("FALSE", False), ("0", False),
])
def test_boolean_parameters_follow_kubernetes_conversion(value: str, expected: bool) -> None:
    assert query_bool({"watch": value}, "watch") is expected
    assert query_bool({}, "watch") is False


def test_a_watch_prefix_without_a_resource_is_400() -> None:
    with pytest.raises(BadRequest):
        parse_request_info("GET", "/api/v1/watch", {})


@pytest.mark.parametrize(("method", "path", "verb", "name", "subpath"), [
    ("GET", "/api/v1/namespaces/x/pods/web:8080/proxy/a/b", "get", "web:8080", "/a/b"),
    ("GET", "/api/v1/namespaces/x/services/http:web:80/proxy/", "get", "http:web:80", "/"),
    ("POST", "/api/v1/namespaces/x/services/web/proxy", "create", "web", ""),
    ("PUT", "/api/v1/namespaces/x/pods/web/proxy/a//b/", "update", "web", "/a//b/"),
    ("DELETE", "/api/v1/namespaces/x/pods/web/proxy/v1/models/m", "delete", "web", "/v1/models/m"),
    ("OPTIONS", "/api/v1/namespaces/x/pods/web/proxy/x", "", "web", "/x"),
])
def test_a_proxy_subresource_keeps_the_path_after_it(
    method: str, path: str, verb: str, name: str, subpath: str
) -> None:
    info = parse_request_info(method, path, {"watch": "true"})
    assert (info.verb, info.name, info.subresource, info.subpath) == (verb, name, "proxy", subpath)


def test_only_a_subresource_has_a_subpath() -> None:
    assert parse_request_info("GET", "/api/v1/namespaces/x/pods/web/", {}).subpath == ""
    assert parse_request_info("GET", "/api/v1/namespaces/x/pods/web/log", {}).subpath == ""
