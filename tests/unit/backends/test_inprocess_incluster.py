"""ServiceAccount admission joins the in-process cluster once an API server serves it."""

from __future__ import annotations

from typing import Any

from sandbox.backends.inprocess.incluster import wire_service_accounts
from sandbox.client.memory import MemoryClient
from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.store import Store


def pod(name: str, account: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"serviceAccountName": account,
                     "containers": [{"name": "main", "image": "python:3.11"}]}}


def volume_names(created: dict[str, Any]) -> list[str]:
    return [v["name"] for v in created["spec"].get("volumes") or ()]


async def test_pods_get_api_access_only_once_an_api_server_has_served(
    store: Store, client: MemoryClient
) -> None:
    endpoint = ApiEndpoint()
    wire_service_accounts(store, endpoint)
    assert volume_names(await client.create(pod("before"))) == []

    endpoint.publish(host="127.0.0.1", port=6443, ca_crt=b"CA")
    [name] = volume_names(await client.create(pod("during")))
    assert name.startswith("kube-api-access-")

    endpoint.withdraw()
    endpoint.publish(host="127.0.0.1", port=6443, ca_crt=b"CA")
    endpoint.withdraw()
    assert len(volume_names(await client.create(pod("after")))) == 1


async def test_the_hook_reads_accounts_from_the_store(store: Store, client: MemoryClient) -> None:
    endpoint = ApiEndpoint()
    wire_service_accounts(store, endpoint)
    endpoint.publish(host="127.0.0.1", port=6443, ca_crt=b"CA")
    await client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": "quiet", "namespace": "default"},
                         "automountServiceAccountToken": False})
    assert volume_names(await client.create(pod("quiet-pod", "quiet"))) == []
