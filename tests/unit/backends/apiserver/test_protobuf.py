"""Protobuf request bodies, as kubectl 1.33 sends them (bodies recorded from kubectl.1.33)."""

from __future__ import annotations

import pytest
from apiserver_helpers import api_client

from sandbox.api.errors import UnsupportedMediaType
from sandbox.backends.inprocess.apiserver import create_app
from sandbox.backends.inprocess.apiserver.protobuf import decode
from sandbox.store import Store

PROTOBUF = {"content-type": "application/vnd.kubernetes.protobuf",
            "accept": "application/vnd.kubernetes.protobuf,application/json"}

# kubectl.1.33 create namespace pbns
NAMESPACE = bytes.fromhex(
    "6b3873000a0f0a02763112094e616d657370616365121c0a140a0470626e7312001a0022002a0032003800"
    "420012001a020a001a002200")
# kubectl.1.33 create deployment d1 --image=nginx:1.25 --replicas=3 --port=8080 -- sleep 100
DEPLOYMENT = bytes.fromhex(
    "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412c6010a1d0a02643112001a0022002a"
    "003200380042005a090a03617070120264311296010803120b0a090a03617070120264311a7d0a1b0a0012"
    "001a0022002a003200380042005a090a0361707012026431125e12400a056e67696e78120a6e67696e783a"
    "312e32351a05736c6565701a033130302a00320b0a00100018903f22002a0042006a007200800100880100"
    "900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a"
    "0c0800100018002000280038001a002200")
# kubectl.1.33 auth can-i create pods -n default
ACCESS_REVIEW = bytes.fromhex(
    "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a6563"
    "74416363657373526576696577123f0a100a0012001a0022002a0032003800420012210a1f0a0764656661"
    "756c7412066372656174651a0022002a04706f647332003a001a08080012001a0020001a002200")


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (numbers and lengths below 128 bytes of varint)."""
    key = number << 3 | 2
    key_bytes = bytes([key]) if key < 128 else bytes([key & 0x7F | 0x80, key >> 7])
    return key_bytes + bytes([len(payload)]) + payload


def test_a_namespace_decodes_like_its_json_form() -> None:
    assert decode(NAMESPACE) == {"kind": "Namespace", "apiVersion": "v1",
                                 "metadata": {"name": "pbns"}}


def test_a_deployment_keeps_what_kubectl_set_and_drops_go_zero_values() -> None:
    assert decode(DEPLOYMENT) == {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "d1", "labels": {"app": "d1"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "d1"}},
            "template": {"metadata": {"labels": {"app": "d1"}}, "spec": {"containers": [
                {"name": "nginx", "image": "nginx:1.25", "command": ["sleep", "100"],
                 "ports": [{"containerPort": 8080}]}]}},
        },
    }


def test_unknown_kinds_and_unknown_set_fields_are_415_naming_them() -> None:
    other = NAMESPACE.replace(b"\tNamespace", b"\tNamespacf")
    with pytest.raises(UnsupportedMediaType, match="Namespacf"):
        decode(other)
    meta = _field(1, b"x") + bytes([99 << 3 & 0x7F | 0x80, 99 >> 4, 1])  # field 99 = 1
    tampered = b"k8s\x00" + _field(1, _field(1, b"v1") + _field(2, b"Namespace")) + _field(
        2, _field(1, meta))
    with pytest.raises(UnsupportedMediaType, match="field 99 of ObjectMeta"):
        decode(tampered)
    empty_unknown = b"k8s\x00" + _field(1, _field(1, b"v1") + _field(2, b"Namespace")) + _field(
        2, _field(1, _field(1, b"x") + _field(99, b"")))
    assert decode(empty_unknown)["metadata"] == {"name": "x"}


async def test_kubectl_1_33_protobuf_creates_and_reviews_work(store: Store) -> None:
    app = create_app(store=store)
    async with api_client(app) as c:
        ns = await c.post("/api/v1/namespaces", content=NAMESPACE, headers=PROTOBUF)
        deploy = await c.post("/apis/apps/v1/namespaces/pbns/deployments", content=DEPLOYMENT,
                              headers=PROTOBUF)
        review = await c.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                              content=ACCESS_REVIEW, headers=PROTOBUF)
    assert ns.status_code == 201 and ns.headers["content-type"] == "application/json"
    assert deploy.status_code == 201 and deploy.json()["spec"]["replicas"] == 3
    assert review.json()["status"]["allowed"] is True
