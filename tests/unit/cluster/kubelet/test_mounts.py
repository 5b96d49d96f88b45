"""Mount paths mapped onto host directories for processes."""

from __future__ import annotations

import json

import pytest

from sandbox.cluster.kubelet.envvars import ContainerConfigError
from sandbox.cluster.kubelet.mounts import Mount, MountTable, container_mounts


@pytest.fixture
def table(tmp_path):
    return MountTable([
        Mount("/data", tmp_path / "data"),
        Mount("/data/models", tmp_path / "models"),
    ])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/data", "{root}/data"),
        ("/data/train.csv", "{root}/data/train.csv"),
        ("/data/models/m.pkl", "{root}/models/m.pkl"),
        ("--model-dir=/data/models", "--model-dir={root}/models"),
        ("/database", "/database"),
        ("relative/data", "relative/data"),
        ("x=/data", "x=/data"),
    ],
)
def test_values_under_a_mount_path_are_mapped_longest_first(table, tmp_path, value, expected):
    assert table.map_value(value) == expected.format(root=tmp_path)


def test_the_table_is_offered_as_json(table, tmp_path):
    assert json.loads(table.as_env()) == {
        "/data": str(tmp_path / "data"), "/data/models": str(tmp_path / "models")}


def test_sub_paths_are_created_inside_the_volume(tmp_path):
    container = {"volumeMounts": [
        {"name": "v", "mountPath": "/a", "subPath": "x/y"},
        {"name": "v", "mountPath": "/b/", "subPathExpr": "$(POD)"},
        {"name": "elsewhere", "mountPath": "/c"},
    ]}
    table = container_mounts(container, {"v": tmp_path}, {"POD": "web-0"})
    assert table.map_path("/a/f") == f"{tmp_path}/x/y/f"
    assert table.map_path("/b") == f"{tmp_path}/web-0"
    assert (tmp_path / "x" / "y").is_dir() and (tmp_path / "web-0").is_dir()
    assert table.map_path("/c") is None


@pytest.mark.parametrize("sub_path", ["../escape", "/abs"])
def test_sub_paths_cannot_leave_the_volume(tmp_path, sub_path):
    container = {"volumeMounts": [{"name": "v", "mountPath": "/a", "subPath": sub_path}]}
    with pytest.raises(ContainerConfigError):
        container_mounts(container, {"v": tmp_path}, {})


def test_scripts_after_dash_c_have_their_mount_paths_mapped(table, tmp_path):
    argv = ["sh", "-c", "cat /data/a.csv > '/data/models/out' && echo /database /data"]
    assert table.map_args(argv) == [
        "sh", "-c",
        f"cat {tmp_path}/data/a.csv > '{tmp_path}/models/out' && echo /database {tmp_path}/data",
    ]
    assert table.map_args(["echo", "/data/x"]) == ["echo", f"{tmp_path}/data/x"]
