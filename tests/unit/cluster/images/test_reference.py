"""Image references are normalised as a container runtime reads them."""

from __future__ import annotations

import pytest

from sandbox.cluster.images.reference import InvalidReference, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("python", "python:latest"),
        ("python:3.11", "python:3.11"),
        ("docker.io/library/python:3.11", "python:3.11"),
        ("index.docker.io/library/python", "python:latest"),
        ("docker.io/kubeflow/notebook:v1", "kubeflow/notebook:v1"),
        ("library/busybox", "busybox:latest"),
        ("ghcr.io/kubeflow/kfp-launcher:2.0", "ghcr.io/kubeflow/kfp-launcher:2.0"),
        ("localhost:5000/model", "localhost:5000/model:latest"),
        ("localhost:5000/model:v2", "localhost:5000/model:v2"),
        (f"python@{DIGEST}", f"python@{DIGEST}"),
        (f"docker.io/library/python:3.11@{DIGEST}", f"python:3.11@{DIGEST}"),
    ],
)
def test_references_are_normalised(text, normalised):
    assert str(parse_reference(text)) == normalised


@pytest.mark.parametrize("text", ["", "python:", "Python:3", "a b", "x@sha256", "//x", "python@:"])
def test_malformed_references_are_rejected(text):
    with pytest.raises(InvalidReference, match="invalid reference format"):
        parse_reference(text)


@pytest.mark.parametrize(
    ("pattern", "image", "matches"),
    [
        ("python:*", "python:3.11-slim", True),
        ("python:*", "docker.io/library/python", True),
        ("python:*", f"python@{DIGEST}", True),
        ("python:3.*", f"python@{DIGEST}", False),
        ("python:3.*", "python:3.11", True),
        ("python:3.*", "python:2.7", False),
        ("python:*", "pythonista:1", False),
        ("kubeflow/*:v1*", "docker.io/kubeflow/trainer:v1.9", True),
        ("kubeflow/*:v1*", "kubeflow/trainer:v2", False),
        (f"python@{DIGEST}", f"python:3.11@{DIGEST}", True),
        (f"python@{DIGEST}", "python:3.11", False),
    ],
)
def test_patterns_match_part_by_part(pattern, image, matches):
    assert parse_reference(pattern).matches(parse_reference(image)) is matches
