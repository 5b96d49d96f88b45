"""A default ServiceAccount in every namespace, each with a token Secret."""

from __future__ import annotations

import base64
import functools
from typing import Any

from batchnet_helpers import running, settle

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import serviceaccount
from sandbox.cluster.controllers.serviceaccount import SA_NAME, SA_UID, TOKEN_TYPE


async def tokens(client: MemoryClient, namespace: str, account: str) -> list[dict[str, Any]]:
    listed = await client.list("v1", "Secret", namespace=namespace)
    return [s for s in listed["items"] if s["type"] == TOKEN_TYPE
            and s["metadata"]["annotations"][SA_NAME] == account]


def decode(secret: dict[str, Any], key: str) -> bytes:
    return base64.b64decode(secret["data"][key])


async def test_every_namespace_gets_a_default_account_with_a_token_secret(
    client: MemoryClient, clock: FakeClock
) -> None:
    factory = functools.partial(serviceaccount.controller, ca_crt=b"CA")
    async with running(client, clock, factory):
        await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
        await settle(clock)
        account = await client.get("v1", "ServiceAccount", "default", namespace="team")
        [secret] = await tokens(client, "team", "default")
        assert secret["metadata"]["name"].startswith("default-token-")
        assert secret["metadata"]["annotations"][SA_UID] == account["metadata"]["uid"]
        assert decode(secret, "namespace") == b"team"
        assert decode(secret, "ca.crt") == b"CA"
        assert len(decode(secret, "token")) >= 32
        assert account["secrets"] == [{"name": secret["metadata"]["name"]}]
        # Bootstrap namespaces too.
        await client.get("v1", "ServiceAccount", "default", namespace="kube-system")


async def test_a_deleted_default_account_is_recreated_and_its_old_token_removed(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, serviceaccount.controller):
        await settle(clock)
        [old] = await tokens(client, "default", "default")
        await client.delete("v1", "ServiceAccount", "default", namespace="default")
        await settle(clock)
        account = await client.get("v1", "ServiceAccount", "default", namespace="default")
        [new] = await tokens(client, "default", "default")
        assert new["metadata"]["name"] != old["metadata"]["name"]
        assert new["metadata"]["annotations"][SA_UID] == account["metadata"]["uid"]


async def test_other_accounts_get_tokens_and_lose_them_when_deleted(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, serviceaccount.controller):
        await client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                             "metadata": {"name": "builder", "namespace": "default"}})
        await settle(clock)
        assert len(await tokens(client, "default", "builder")) == 1
        await client.delete("v1", "ServiceAccount", "builder", namespace="default")
        await settle(clock)
        assert await tokens(client, "default", "builder") == []


async def test_a_user_made_token_secret_is_filled_in(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, serviceaccount.controller):
        await settle(clock)
        await client.create({"apiVersion": "v1", "kind": "Secret", "type": TOKEN_TYPE,
                             "metadata": {"name": "mine", "namespace": "default",
                                          "annotations": {SA_NAME: "default"}}})
        await settle(clock)
        secret = await client.get("v1", "Secret", "mine", namespace="default")
        assert decode(secret, "namespace") == b"default"
        assert secret["data"]["token"]
