"""ServiceAccount admission: new pods get the kube-api-access volume, as kube-apiserver does."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from sandbox.api.errors import Forbidden, NotFound
from sandbox.client.memory import MemoryClient
from sandbox.cluster.serviceaccount_admission import (
    DEFAULT_API_TOKEN_MOUNT_PATH,
    VOLUME_PREFIX,
    service_account_admission,
    token_volume_source,
)
from sandbox.store import Store

MOUNT = {"readOnly": True, "mountPath": DEFAULT_API_TOKEN_MOUNT_PATH}


@pytest.fixture
def admitting(store: Store) -> Store:
    def lookup(namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return store.get("v1", "ServiceAccount", name, namespace=namespace)
        except NotFound:
            return None

    store.admission.add_mutating("", "Pod", service_account_admission(lookup), name="ServiceAccount")
    return store


def pod(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "main", "image": "python:3.11"}], **spec},
    }


async def account(client: MemoryClient, name: str, **fields: Any) -> None:
    await client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": name, "namespace": "default"}, **fields})


def token_volumes(created: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in created["spec"].get("volumes") or () if v["name"].startswith(VOLUME_PREFIX)]


async def test_every_container_mounts_a_projected_kube_api_access_volume(admitting, client):
    body = pod(initContainers=[{"name": "init", "image": "python:3.11"}])
    created = await client.create(body)
    [volume] = token_volumes(created)
    assert len(volume["name"]) == len(VOLUME_PREFIX) + 5
    assert volume["projected"] == {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ],
    }
    for key in ("initContainers", "containers"):
        [container] = created["spec"][key]
        assert container["volumeMounts"] == [{"name": volume["name"], **MOUNT}]
    assert created["spec"]["serviceAccountName"] == "default"


async def test_automount_false_on_the_pod_wins_over_the_account(admitting, client):
    await account(client, "robot", automountServiceAccountToken=True)
    created = await client.create(pod(serviceAccountName="robot", automountServiceAccountToken=False))
    assert token_volumes(created) == []
    assert not created["spec"]["containers"][0].get("volumeMounts")


async def test_automount_false_on_the_account_is_honoured_unless_the_pod_asks(admitting, client):
    await account(client, "quiet", automountServiceAccountToken=False)
    assert token_volumes(await client.create(pod("a", serviceAccountName="quiet"))) == []
    asked = await client.create(
        pod("b", serviceAccountName="quiet", automountServiceAccountToken=True)
    )
    assert len(token_volumes(asked)) == 1


async def test_a_container_with_its_own_mount_there_keeps_it(admitting, client):
    body = pod(volumes=[{"name": "mine", "emptyDir": {}}])
    body["spec"]["containers"].append({
        "name": "own", "image": "python:3.11",
        "volumeMounts": [{"name": "mine", "mountPath": DEFAULT_API_TOKEN_MOUNT_PATH}],
    })
    created = await client.create(body)
    [volume] = token_volumes(created)
    main, own = created["spec"]["containers"]
    assert main["volumeMounts"] == [{"name": volume["name"], **MOUNT}]
    assert own["volumeMounts"] == [{"name": "mine", "mountPath": DEFAULT_API_TOKEN_MOUNT_PATH}]


async def test_an_existing_kube_api_access_volume_is_reused(admitting, client):
    body = pod(volumes=[{"name": "kube-api-access-mine1", "projected": token_volume_source()}])
    created = await client.create(body)
    assert [v["name"] for v in created["spec"]["volumes"]] == ["kube-api-access-mine1"]
    assert created["spec"]["containers"][0]["volumeMounts"][0]["name"] == "kube-api-access-mine1"


async def test_a_missing_named_account_is_forbidden_with_kubernetes_message(admitting, client):
    with pytest.raises(Forbidden) as caught:
        await client.create(pod(serviceAccountName="ghost"))
    assert str(caught.value) == (
        'pods "web" is forbidden: error looking up service account default/ghost: '
        'serviceaccount "ghost" not found'
    )


async def test_a_missing_default_account_still_admits_the_pod(admitting, client):
    """kube-apiserver waits for the controller to create it; the kubelet waits here."""
    assert len(token_volumes(await client.create(pod()))) == 1


async def test_the_accounts_image_pull_secrets_are_copied_when_the_pod_has_none(admitting, client):
    await account(client, "puller", imagePullSecrets=[{"name": "registry"}])
    created = await client.create(pod(serviceAccountName="puller"))
    assert created["spec"]["imagePullSecrets"] == [{"name": "registry"}]


def test_only_creates_are_mutated():
    hook = service_account_admission(lambda namespace, name: None)
    body = pod()
    hook(SimpleNamespace(operation="UPDATE", object=body, subresource=None))
    hook(SimpleNamespace(operation="CREATE", object=body, subresource="status"))
    assert body == pod()
    hook(SimpleNamespace(operation="CREATE", object=body, subresource=None))
    assert len(token_volumes(body)) == 1
