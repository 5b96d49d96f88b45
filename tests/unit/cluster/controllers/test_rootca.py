"""root-ca-cert-publisher: kube-root-ca.crt in every namespace once a CA is known."""

from __future__ import annotations

import functools

from batchnet_helpers import running, settle

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.cluster.controllers import rootca
from sandbox.cluster.controllers.rootca import CONFIG_MAP_NAME, DESCRIPTION, DESCRIPTION_ANNOTATION

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


async def root_ca(client: MemoryClient, namespace: str) -> dict | None:
    listed = await client.list("v1", "ConfigMap", namespace=namespace)
    return next((c for c in listed["items"] if c["metadata"]["name"] == CONFIG_MAP_NAME), None)


async def test_nothing_is_published_until_a_ca_is_known_then_every_namespace_gets_it(
    client: MemoryClient, clock: FakeClock
) -> None:
    endpoint = ApiEndpoint()
    async with running(client, clock, functools.partial(rootca.controller, ca=endpoint)):
        await settle(clock)
        assert await root_ca(client, "default") is None
        endpoint.publish(host="127.0.0.1", port=6443, ca_crt=CA)
        await settle(clock)
        for namespace in ("default", "kube-system", "kube-public"):
            published = await root_ca(client, namespace)
            assert published is not None, namespace
            assert published["data"] == {"ca.crt": CA.decode()}
            assert published["metadata"]["annotations"][DESCRIPTION_ANNOTATION] == DESCRIPTION
        await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
        await settle(clock)
        assert (await root_ca(client, "team"))["data"] == {"ca.crt": CA.decode()}


async def test_edits_are_reverted_deletions_recreated_and_a_new_ca_rolled_out(
    client: MemoryClient, clock: FakeClock
) -> None:
    endpoint = ApiEndpoint()
    endpoint.publish(host="127.0.0.1", port=6443, ca_crt=CA)
    async with running(client, clock, functools.partial(rootca.controller, ca=endpoint)):
        await settle(clock)
        edited = await root_ca(client, "default")
        edited["data"] = {"ca.crt": "tampered", "extra": "x"}
        del edited["metadata"]["annotations"]
        await client.replace(edited)
        await settle(clock)
        repaired = await root_ca(client, "default")
        assert repaired["data"] == {"ca.crt": CA.decode()}
        assert repaired["metadata"]["annotations"][DESCRIPTION_ANNOTATION] == DESCRIPTION

        await client.delete("v1", "ConfigMap", CONFIG_MAP_NAME, namespace="default")
        await settle(clock)
        assert (await root_ca(client, "default"))["data"] == {"ca.crt": CA.decode()}

        endpoint.publish(host="127.0.0.1", port=6443, ca_crt=b"NEW CA")
        await settle(clock)
        assert (await root_ca(client, "kube-system"))["data"] == {"ca.crt": "NEW CA"}
