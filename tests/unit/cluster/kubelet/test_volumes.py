"""Volume plugins: each source becomes a host directory, or a FailedMount message."""

from __future__ import annotations

import base64
import stat

import pytest

from sandbox.cluster.kubelet.volumes import VolumeContext, VolumeSetupError, setup_volumes
from sandbox.cluster.paths import SandboxPaths


def context(client, tmp_path, *volumes, labels=None):
    pod = {
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1",
                     "labels": labels or {"app": "web", "tier": "front"}},
        "spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "64Mi"}}}],
                 "volumes": list(volumes)},
    }
    return VolumeContext(pod=pod, client=client, paths=SandboxPaths(tmp_path / "home"),
                         pod_ip="127.16.0.2", host_ip="127.0.0.1", node_allocatable={})


async def test_empty_dir_is_a_directory_under_the_pod(client, tmp_path):
    ctx = context(client, tmp_path, {"name": "scratch", "emptyDir": {}})
    mounted = await setup_volumes(ctx)
    assert mounted["scratch"] == ctx.paths.pod_volume("uid-1", "scratch")
    assert mounted["scratch"].is_dir()


async def test_config_map_keys_become_files_with_items_and_modes(client, tmp_path):
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                         "data": {"a.conf": "A", "b.conf": "B"},
                         "binaryData": {"blob": base64.b64encode(b"\x00\x01").decode()}})
    ctx = context(
        client, tmp_path,
        {"name": "all", "configMap": {"name": "cfg", "defaultMode": 0o600}},
        {"name": "some", "configMap": {"name": "cfg", "items": [
            {"key": "a.conf", "path": "nested/renamed.conf", "mode": 0o400}]}},
    )
    mounted = await setup_volumes(ctx)
    assert sorted(p.name for p in mounted["all"].iterdir()) == ["a.conf", "b.conf", "blob"]
    assert (mounted["all"] / "blob").read_bytes() == b"\x00\x01"
    assert stat.S_IMODE((mounted["all"] / "a.conf").stat().st_mode) == 0o600
    renamed = mounted["some"] / "nested" / "renamed.conf"
    assert renamed.read_text() == "A"
    assert stat.S_IMODE(renamed.stat().st_mode) == 0o400
    assert not (mounted["some"] / "b.conf").exists()


async def test_secret_values_are_decoded(client, tmp_path):
    await client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                         "data": {"user": base64.b64encode(b"admin").decode()},
                         "stringData": {"password": "hunter2"}})
    ctx = context(client, tmp_path, {"name": "s", "secret": {"secretName": "creds"}})
    mounted = await setup_volumes(ctx)
    assert (mounted["s"] / "user").read_text() == "admin"
    assert (mounted["s"] / "password").read_text() == "hunter2"


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        ({"name": "v", "configMap": {"name": "nope"}},
         'MountVolume.SetUp failed for volume "v" : configmap "nope" not found'),
        ({"name": "v", "secret": {"secretName": "nope"}},
         'MountVolume.SetUp failed for volume "v" : secret "nope" not found'),
        ({"name": "v", "nfs": {"server": "x", "path": "/"}},
         'MountVolume.SetUp failed for volume "v" : volume source nfs is not supported by the '
         "sandbox kubelet"),
    ],
)
async def test_missing_sources_fail_the_mount_with_kubernetes_messages(client, tmp_path, volume, message):
    with pytest.raises(VolumeSetupError) as caught:
        await setup_volumes(context(client, tmp_path, volume))
    assert str(caught.value) == message


async def test_optional_missing_sources_mount_empty(client, tmp_path):
    ctx = context(client, tmp_path, {"name": "v", "configMap": {"name": "nope", "optional": True}})
    mounted = await setup_volumes(ctx)
    assert list(mounted["v"].iterdir()) == []


async def test_downward_api_writes_fields_and_resources(client, tmp_path):
    ctx = context(client, tmp_path, {"name": "info", "downwardAPI": {"items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
        {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory",
                                             "divisor": "1Mi"}},
    ]}})
    mounted = await setup_volumes(ctx)
    assert (mounted["info"] / "labels").read_text() == 'app="web"\ntier="front"'
    assert (mounted["info"] / "name").read_text() == "web"
    assert (mounted["info"] / "mem").read_text() == "64"


async def test_projected_volumes_combine_sources(client, tmp_path):
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                         "data": {"a": "1"}})
    ctx = context(client, tmp_path, {"name": "p", "projected": {"sources": [
        {"configMap": {"name": "cfg"}},
        {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
    ]}})
    mounted = await setup_volumes(ctx)
    assert (mounted["p"] / "a").read_text() == "1"
    assert (mounted["p"] / "ns").read_text() == "default"


async def test_host_paths_outside_the_home_are_refused(client, tmp_path):
    ctx = context(client, tmp_path, {"name": "etc", "hostPath": {"path": "/etc"}})
    with pytest.raises(VolumeSetupError) as caught:
        await setup_volumes(ctx)
    assert 'hostPath "/etc" is outside the sandbox home' in str(caught.value)


async def test_host_paths_inside_the_home_honour_their_type(client, tmp_path):
    home = tmp_path / "home"
    ctx = context(
        client, tmp_path,
        {"name": "made", "hostPath": {"path": str(home / "shared"), "type": "DirectoryOrCreate"}},
    )
    mounted = await setup_volumes(ctx)
    assert mounted["made"] == home / "shared" and mounted["made"].is_dir()
    missing = context(client, tmp_path,
                      {"name": "m", "hostPath": {"path": str(home / "nope"), "type": "Directory"}})
    with pytest.raises(VolumeSetupError, match="is not a directory"):
        await setup_volumes(missing)


async def test_a_claim_mounts_its_bound_volume_and_waits_while_unbound(client, tmp_path):
    await client.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "metadata": {"name": "data"},
                         "spec": {"accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": "1Gi"}}}})
    ctx = context(client, tmp_path, {"name": "d", "persistentVolumeClaim": {"claimName": "data"}})
    with pytest.raises(VolumeSetupError, match='persistentvolumeclaim "data" is not bound'):
        await setup_volumes(ctx)

    pv_path = ctx.paths.persistent_volume("pv-1")
    await client.create({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"},
                         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                  "hostPath": {"path": str(pv_path)}}})
    claim = await client.get("v1", "PersistentVolumeClaim", "data", namespace="default")
    claim["spec"]["volumeName"] = "pv-1"
    await client.replace(claim)
    await client.patch_status("v1", "PersistentVolumeClaim", "data", {"status": {"phase": "Bound"}},
                              namespace="default")
    mounted = await setup_volumes(ctx)
    assert mounted["d"] == pv_path and pv_path.is_dir()
