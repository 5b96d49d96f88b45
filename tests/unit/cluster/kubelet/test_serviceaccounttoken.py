"""The kube-api-access projected volume: token, ca.crt and namespace files."""

from __future__ import annotations

import base64
import stat
from typing import Any

import pytest

from sandbox.client.memory import MemoryClient
from sandbox.cluster.controllers.serviceaccount import SA_NAME, SA_UID, TOKEN_TYPE
from sandbox.cluster.kubelet.volumes import VolumeContext, VolumeSetupError, setup_volumes
from sandbox.cluster.paths import SandboxPaths
from sandbox.cluster.serviceaccount_admission import token_volume_source

VOLUME = {"name": "kube-api-access-abcde", "projected": token_volume_source()}


def context(client: MemoryClient, tmp_path, *, account: str = "robot") -> VolumeContext:
    pod = {
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1"},
        "spec": {"serviceAccountName": account, "containers": [{"name": "c"}],
                 "volumes": [VOLUME]},
    }
    return VolumeContext(pod=pod, client=client, paths=SandboxPaths(tmp_path / "home"),
                         pod_ip="127.16.0.2", host_ip="127.0.0.1", node_allocatable={})


async def service_account(client: MemoryClient, name: str, **fields: Any) -> dict[str, Any]:
    return await client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                                "metadata": {"name": name, "namespace": "default"}, **fields})


async def token_secret(client: MemoryClient, name: str, account: dict[str, Any], token: str,
                       *, uid: str | None = None) -> None:
    await client.create({
        "apiVersion": "v1", "kind": "Secret", "type": TOKEN_TYPE,
        "metadata": {"name": name, "namespace": "default", "annotations": {
            SA_NAME: account["metadata"]["name"],
            SA_UID: uid or account["metadata"]["uid"]}},
        "data": {"token": base64.b64encode(token.encode()).decode()},
    })


async def root_ca(client: MemoryClient) -> None:
    await client.create({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "kube-root-ca.crt", "namespace": "default"},
                         "data": {"ca.crt": "PEM"}})


async def test_the_volume_holds_the_accounts_token_the_root_ca_and_the_namespace(client, tmp_path):
    account = await service_account(client, "robot")
    await token_secret(client, "robot-token-abcde", account, "s3cr3t")
    await root_ca(client)
    mounted = await setup_volumes(context(client, tmp_path))
    directory = mounted["kube-api-access-abcde"]
    assert sorted(p.name for p in directory.iterdir()) == ["ca.crt", "namespace", "token"]
    assert (directory / "token").read_text() == "s3cr3t"
    assert (directory / "ca.crt").read_text() == "PEM"
    assert (directory / "namespace").read_text() == "default"
    assert stat.S_IMODE((directory / "token").stat().st_mode) == 0o644


async def test_the_token_listed_by_the_account_wins_and_stale_ones_are_ignored(client, tmp_path):
    account = await service_account(client, "robot", secrets=[{"name": "robot-token-zzzzz"}])
    await token_secret(client, "robot-token-aaaaa", account, "old-account", uid="another-uid")
    await token_secret(client, "robot-token-bbbbb", account, "unlisted")
    await token_secret(client, "robot-token-zzzzz", account, "listed")
    await root_ca(client)
    mounted = await setup_volumes(context(client, tmp_path))
    assert (mounted["kube-api-access-abcde"] / "token").read_text() == "listed"


@pytest.mark.parametrize(
    ("make_account", "message"),
    [
        (False, 'failed to fetch token: serviceaccounts "robot" not found'),
        (True, "failed to fetch token: service account default/robot has no token Secret yet "
               "(the serviceaccount controller creates one)"),
    ],
)
async def test_a_missing_account_or_token_fails_the_mount(client, tmp_path, make_account, message):
    if make_account:
        await service_account(client, "robot")
    await root_ca(client)
    with pytest.raises(VolumeSetupError) as caught:
        await setup_volumes(context(client, tmp_path))
    assert str(caught.value) == (
        f'MountVolume.SetUp failed for volume "kube-api-access-abcde" : {message}'
    )
