"""Artifact URIs ↔ local paths: ``minio://mlpipeline/v2/artifacts/…`` lives under the sandbox home.

KFP names every artifact by a URI in the pipeline root (default
``minio://mlpipeline/v2/artifacts``) and a task's container reads and writes
it at a local path: kfp's executor maps ``gs://b/k`` to ``/gcs/b/k``,
``s3://b/k`` to ``/s3/b/k`` and ``minio://b/k`` to ``/minio/b/k``, mounts a
real cluster provides. In the sandbox there is one machine and one store, so
the same three schemes map under one root directory (``$SANDBOX_ARTIFACT_ROOT``
in a task's pod, ``<home>/artifacts`` by default)::

    minio://mlpipeline/v2/artifacts/p/r/t/model  →  <root>/minio/mlpipeline/v2/artifacts/p/r/t/model
    s3://bucket/key                              →  <root>/s3/bucket/key    (warned once: not S3)
    gs://bucket/key                              →  <root>/gs/bucket/key    (warned once: not GCS)

A URI whose key would leave its bucket (``..``, an absolute key, a NUL) is
refused with :class:`UnsafeURI`: artifacts are written by user code, and a
URI must never name a file outside the store. Other schemes are refused too.

Standard library only: this module runs inside task pods (the executor).
"""

from __future__ import annotations

import os
import posixpath
import warnings
from pathlib import Path, PurePosixPath

__all__ = ["ROOT_ENV", "SCHEMES", "UnsafeURI", "artifact_root", "path_to_uri", "uri_to_path"]

#: The environment variable naming the artifact root inside a task's pod.
ROOT_ENV = "SANDBOX_ARTIFACT_ROOT"
#: URI scheme → the directory under the root that holds its buckets.
SCHEMES = {"minio": "minio", "s3": "s3", "gs": "gs"}
_MAPPED_WITH_WARNING = {"s3": "Amazon S3", "gs": "Google Cloud Storage"}
_warned: set[str] = set()


class UnsafeURI(ValueError):
    """A URI the store will not map (unknown scheme, or a key leaving its bucket)."""


def artifact_root(default: Path | None = None) -> Path:
    """``$SANDBOX_ARTIFACT_ROOT``, else ``default``; ``UnsafeURI`` when neither is set."""
    value = os.environ.get(ROOT_ENV)
    if value:
        return Path(value)
    if default is None:
        raise UnsafeURI(f"no artifact root: ${ROOT_ENV} is not set")
    return default


def _split(uri: str) -> tuple[str, str, str]:
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in SCHEMES:
        raise UnsafeURI(f"unsupported artifact URI {uri!r} (use minio://, s3:// or gs://)")
    bucket, _, key = rest.partition("/")
    if not bucket or bucket in (".", "..") or "\x00" in rest:
        raise UnsafeURI(f"artifact URI {uri!r} names no bucket")
    if key.startswith("/") or ".." in PurePosixPath(key).parts:
        raise UnsafeURI(f"artifact URI {uri!r} leaves its bucket")
    normalized = posixpath.normpath(key) if key else ""
    if normalized.startswith(".."):
        raise UnsafeURI(f"artifact URI {uri!r} leaves its bucket")
    return scheme, bucket, "" if normalized == "." else normalized


def uri_to_path(uri: str, root: Path) -> Path:
    """The local path of ``uri`` under ``root`` (see the module docstring)."""
    scheme, bucket, key = _split(uri)
    if scheme in _MAPPED_WITH_WARNING and scheme not in _warned:
        _warned.add(scheme)
        warnings.warn(f"{scheme}:// artifacts are kept in the sandbox's local store under {root}, "
                      f"not in {_MAPPED_WITH_WARNING[scheme]}", stacklevel=2)
    path = root / SCHEMES[scheme] / bucket
    return path / key if key else path


def path_to_uri(path: Path, root: Path) -> str:
    """The URI of a local path under ``root`` (the inverse of :func:`uri_to_path`)."""
    try:
        relative = Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        raise UnsafeURI(f"{path} is not under the artifact root {root}") from None
    parts = relative.parts
    scheme = next((s for s, d in SCHEMES.items() if parts and parts[0] == d), None)
    if scheme is None or len(parts) < 2:
        raise UnsafeURI(f"{path} is not an artifact path under {root}")
    return f"{scheme}://" + "/".join(parts[1:])
