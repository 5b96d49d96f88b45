"""sandbox.podenv: in-pod programs map container paths to host paths."""

from __future__ import annotations

import json

import pytest

from sandbox import podenv


@pytest.fixture
def mounted(monkeypatch):
    table = {"/data": "/home/u/.kf-sandbox/volumes/pv-1", "/data/models": "/srv/models"}
    monkeypatch.setenv("SANDBOX_MOUNTS", json.dumps(table))
    return table


@pytest.mark.parametrize(
    ("path", "host"),
    [
        ("/data", "/home/u/.kf-sandbox/volumes/pv-1"),
        ("/data/train.csv", "/home/u/.kf-sandbox/volumes/pv-1/train.csv"),
        ("/data/models/m.pkl", "/srv/models/m.pkl"),  # the longest mount path wins
        ("/data/models", "/srv/models"),
        ("/data//x/../y", "/home/u/.kf-sandbox/volumes/pv-1/y"),
        ("/database/x", "/database/x"),  # whole components only
        ("/tmp/x", "/tmp/x"),
        ("relative/data", "relative/data"),
    ],
)
def test_resolve_maps_by_the_longest_mount_path(mounted, path, host):
    assert podenv.resolve(path) == host


def test_outside_the_sandbox_nothing_is_mapped(monkeypatch):
    monkeypatch.delenv("SANDBOX_MOUNTS", raising=False)
    assert podenv.mounts() == {}
    assert podenv.resolve("/data/x") == "/data/x"


def test_pod_identity_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_POD_IP", "127.16.1.4")
    monkeypatch.setenv("SANDBOX_POD_NAME", "web-0")
    monkeypatch.setenv("SANDBOX_NAMESPACE", "team-a")
    assert (podenv.pod_ip(), podenv.pod_name(), podenv.namespace()) == (
        "127.16.1.4",
        "web-0",
        "team-a",
    )
    monkeypatch.delenv("SANDBOX_POD_IP")
    assert podenv.pod_ip() is None
