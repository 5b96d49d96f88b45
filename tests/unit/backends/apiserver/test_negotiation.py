"""Content negotiation: Accept lists, request bodies and patch types."""

from __future__ import annotations

import pytest

from sandbox.api.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from sandbox.backends.inprocess.apiserver.negotiation import (
    Output,
    decode_body,
    decode_patch,
    negotiate_output,
)

KUBECTL_GET = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
               "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")


@pytest.mark.parametrize(("accept", "expected"), [
    (None, Output()),
    ("*/*", Output()),
    (KUBECTL_GET, Output("table", "v1")),
    ("application/json;as=Table;v=v1beta1;g=meta.k8s.io", Output("table", "v1beta1")),
    ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", Output("partial-list")),
    ("application/vnd.kubernetes.protobuf,application/json", Output()),
    ("application/yaml", Output(yaml=True)),
    ("application/json;as=Table;v=v2;g=meta.k8s.io,application/json", Output()),
])
def test_the_first_form_the_server_can_produce_wins(accept, expected) -> None:
    assert negotiate_output(accept) == expected


def test_nothing_acceptable_is_406() -> None:
    with pytest.raises(NotAcceptable):
        negotiate_output("application/vnd.kubernetes.protobuf")


def test_bodies_are_json_by_default_and_yaml_when_said() -> None:
    assert decode_body(b'{"a": 1}', None) == {"a": 1}
    assert decode_body(b"a: 1\n", "application/yaml") == {"a": 1}
    assert decode_body(b"", "application/json") is None
    with pytest.raises(BadRequest):
        decode_body(b"{nope", "application/json")
    with pytest.raises(UnsupportedMediaType):
        decode_body(b"k8s\x00", "application/vnd.kubernetes.protobuf")


def test_patch_types_come_from_the_content_type() -> None:
    assert decode_patch(b"[]", "application/json-patch+json") == ("json", [])
    assert decode_patch(b'{"a":1}', "application/merge-patch+json; charset=utf-8") == ("merge", {"a": 1})
    assert decode_patch(b"kind: X\n", "application/apply-patch+yaml") == ("apply", {"kind": "X"})
    with pytest.raises(UnsupportedMediaType) as err:
        decode_patch(b"{}", "application/json")
    assert "accepted media types include: application/json-patch+json" in err.value.message
