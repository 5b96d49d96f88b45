"""Artifact URIs map under one root; nothing maps outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.components.pipelines.storage.uris import UnsafeURI, path_to_uri, uri_to_path

ROOT = Path("/var/sandbox/artifacts")


def test_the_three_schemes_map_under_the_root_and_back(tmp_path):
    assert uri_to_path("minio://mlpipeline/v2/artifacts/p/r/t/model", ROOT) == \
        ROOT / "minio/mlpipeline/v2/artifacts/p/r/t/model"
    with pytest.warns(UserWarning, match="not in Amazon S3"):
        assert uri_to_path("s3://bucket/a/b", ROOT) == ROOT / "s3/bucket/a/b"
    with pytest.warns(UserWarning, match="not in Google Cloud Storage"):
        assert uri_to_path("gs://bucket/a", ROOT) == ROOT / "gs/bucket/a"
    path = uri_to_path("minio://mlpipeline/x/y", tmp_path)
    assert path_to_uri(path, tmp_path) == "minio://mlpipeline/x/y"


@pytest.mark.parametrize("uri", [
    "minio://mlpipeline/../etc/passwd", "minio://mlpipeline/a/../../b", "minio://mlpipeline//abs",
    "minio://../x", "file:///etc/passwd", "http://x/y", "/tmp/x", "minio://", "minio://b/a\x00b",
])
def test_uris_that_would_leave_the_store_are_refused(uri):
    with pytest.raises(UnsafeURI):
        uri_to_path(uri, ROOT)


def test_a_path_outside_the_root_has_no_uri(tmp_path):
    with pytest.raises(UnsafeURI):
        path_to_uri(tmp_path.parent / "elsewhere", tmp_path)
