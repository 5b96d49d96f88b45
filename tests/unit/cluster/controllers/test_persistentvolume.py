"""PVCs get a hostPath volume of the default class, are bound, and are reclaimed."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from batchnet_helpers import running, settle

from sandbox.api.errors import NotFound
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import persistentvolume
from sandbox.cluster.paths import SandboxPaths


def claim(name: str = "data", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "2Gi"}}, **spec},
    }


@pytest.fixture
def paths(tmp_path: Path) -> SandboxPaths:
    return SandboxPaths(tmp_path)


def factory(paths: SandboxPaths) -> Any:
    return functools.partial(persistentvolume.controller, paths=paths)


async def get_claim(client: MemoryClient, name: str = "data") -> dict[str, Any]:
    return await client.get("v1", "PersistentVolumeClaim", name, namespace="default")


async def test_the_default_storage_class_exists_once_the_controller_runs(
    client: MemoryClient, clock: FakeClock, paths: SandboxPaths
) -> None:
    async with running(client, clock, factory(paths)):
        await settle(clock)
        sc = await client.get("storage.k8s.io/v1", "StorageClass", "standard")
        assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
        assert sc["provisioner"] == "sandbox.local/hostpath"
        assert (sc["reclaimPolicy"], sc["volumeBindingMode"]) == ("Delete", "Immediate")


async def test_a_claim_gets_a_provisioned_hostpath_volume_and_both_are_bound(
    client: MemoryClient, clock: FakeClock, paths: SandboxPaths
) -> None:
    async with running(client, clock, factory(paths)):
        created = await client.create(claim(storageClassName="standard"))
        await settle(clock)
        name = f"pvc-{created['metadata']['uid']}"
        pv = await client.get("v1", "PersistentVolume", name)
        assert pv["spec"]["capacity"] == {"storage": "2Gi"}
        assert pv["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert pv["spec"]["hostPath"]["path"] == str(paths.persistent_volume(name))
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
        assert pv["spec"]["claimRef"]["uid"] == created["metadata"]["uid"]
        assert pv["status"]["phase"] == "Bound"
        assert paths.persistent_volume(name).is_dir()
        bound = await get_claim(client)
        assert bound["spec"]["volumeName"] == name
        assert bound["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"],
                                   "capacity": {"storage": "2Gi"}}
        assert bound["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
        events = (await client.list("v1", "Event", namespace="default"))["items"]
        assert [e["message"] for e in events if e["reason"] == "ProvisioningSucceeded"] == [
            f"Successfully provisioned volume {name} using sandbox.local/hostpath"]


async def test_a_claim_without_class_is_given_the_default_one(
    client: MemoryClient, clock: FakeClock, paths: SandboxPaths
) -> None:
    async with running(client, clock, factory(paths)):
        await client.create(claim())
        await settle(clock)
        assert (await get_claim(client))["spec"]["storageClassName"] == "standard"


async def test_a_claim_without_class_is_provisioned_with_the_default_one(
    client: MemoryClient, clock: FakeClock, paths: SandboxPaths
) -> None:
    async with running(client, clock, factory(paths)):
        await client.create(claim())
        await settle(clock)
        bound = await get_claim(client)
        assert bound["status"]["phase"] == "Bound"
        pv = await client.get("v1", "PersistentVolume", bound["spec"]["volumeName"])
        assert pv["spec"]["storageClassName"] == "standard"


async def test_deleting_the_claim_deletes_a_delete_policy_volume_and_its_directory(
    client: MemoryClient, clock: FakeClock, paths: SandboxPaths
) -> None:
    async with running(client, clock, factory(paths)):
        created = await client.create(claim(storageClassName="standard"))
        await settle(clock)
        name = f"pvc-{created['metadata']['uid']}"
        (paths.persistent_volume(name) / "model.pkl").write_bytes(b"x")
        await client.delete("v1", "PersistentVolumeClaim", "data", namespace="default")
        await settle(clock)
        with pytest.raises(NotFound):
            await client.get("v1", "PersistentVolume", name)
        assert not paths.persistent_volume(name).exists()


async def test_a_retain_policy_volume_is_released_and_kept(
    client: MemoryClient, clock: FakeClock, paths: SandboxPaths
) -> None:
    async with running(client, clock, factory(paths)):
        await client.create({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "keep"}, "provisioner": "sandbox.local/hostpath",
            "reclaimPolicy": "Retain",
        })
        created = await client.create(claim(storageClassName="keep"))
        await settle(clock)
        name = f"pvc-{created['metadata']['uid']}"
        await client.delete("v1", "PersistentVolumeClaim", "data", namespace="default")
        await settle(clock)
        pv = await client.get("v1", "PersistentVolume", name)
        assert pv["status"]["phase"] == "Released"
        assert paths.persistent_volume(name).is_dir()


async def test_wait_for_first_consumer_waits_for_a_selected_node(
    client: MemoryClient, clock: FakeClock, paths: SandboxPaths
) -> None:
    async with running(client, clock, factory(paths)):
        await client.create({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "late"}, "provisioner": "sandbox.local/hostpath",
            "volumeBindingMode": "WaitForFirstConsumer",
        })
        await client.create(claim(storageClassName="late"))
        await settle(clock)
        assert (await get_claim(client))["status"]["phase"] == "Pending"
        await client.patch("v1", "PersistentVolumeClaim", "data", {"metadata": {"annotations": {
            "volume.kubernetes.io/selected-node": "worker-1"}}}, namespace="default")
        await settle(clock)
        assert (await get_claim(client))["status"]["phase"] == "Bound"
