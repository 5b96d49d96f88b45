"""Cluster files are validated data: a mistake names its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.cluster.config import ClusterFileError, load_cluster


@pytest.mark.parametrize("name", ["default", "gpu", "large"])
def test_shipped_cluster_files_are_valid(name: str) -> None:
    assert load_cluster(name).name == name


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    return path


def test_a_misspelt_field_is_an_error_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nnodes:\n  - name: a\n    capacity: {cpu: '1', memory: 1Gi, pods: '10'}\n    taint: []\n")
    with pytest.raises(ClusterFileError) as err:
        load_cluster(path)
    assert "nodes.0.taint: Extra inputs are not permitted" in str(err.value)


def test_bad_quantities_and_missing_resources_are_errors(tmp_path: Path) -> None:
    bad = write(tmp_path, "name: x\nnodes:\n  - name: a\n    capacity: {cpu: 'lots', memory: 1Gi, pods: '10'}\n")
    with pytest.raises(ClusterFileError, match="cpu: quantities must match"):
        load_cluster(bad)
    missing = write(tmp_path, "name: x\nnodes:\n  - name: a\n    capacity: {cpu: '1'}\n")
    with pytest.raises(ClusterFileError, match="capacity needs memory, pods"):
        load_cluster(missing)


def test_duplicate_node_names_and_unknown_clusters(tmp_path: Path) -> None:
    dup = write(tmp_path, "name: x\nnodes:\n  - {name: a, capacity: {cpu: '1', memory: 1Gi, pods: '1'}}\n"
                          "  - {name: a, capacity: {cpu: '1', memory: 1Gi, pods: '1'}}\n")
    with pytest.raises(ClusterFileError, match="node name 'a' is used twice"):
        load_cluster(dup)
    with pytest.raises(ClusterFileError, match="no cluster named 'nope'; known: default, gpu, large"):
        load_cluster("nope")
