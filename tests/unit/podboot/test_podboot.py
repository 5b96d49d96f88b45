"""In-pod startup hook: in-cluster clients read their token and CA from mapped paths."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox import podboot
from sandbox.podboot import STARTUP_DIR

ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def run_python(code: str, *, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"PATH": os.environ.get("PATH", os.defpath), **env},
        capture_output=True, text=True, timeout=30, check=False,
    )


def pod_env(host_dir: Path, *, pythonpath: str = str(STARTUP_DIR)) -> dict[str, str]:
    return {"SANDBOX_MOUNTS": json.dumps({ACCOUNT_DIR: str(host_dir)}), "PYTHONPATH": pythonpath}


def test_the_official_client_reads_the_mapped_token_and_ca(tmp_path):
    (tmp_path / "token").write_text("s3cr3t")
    (tmp_path / "ca.crt").write_text("PEM")
    env = {**pod_env(tmp_path), "KUBERNETES_SERVICE_HOST": "127.0.0.1",
           "KUBERNETES_SERVICE_PORT": "6443"}
    done = run_python("""
        from kubernetes import client, config
        from kubernetes.config import incluster_config
        print(incluster_config.SERVICE_TOKEN_FILENAME)
        print(incluster_config.SERVICE_CERT_FILENAME)
        config.load_incluster_config()
        conf = client.Configuration.get_default_copy()
        # The key is "BearerToken" from client 31 on, "authorization" before.
        token = conf.api_key.get("BearerToken") or conf.api_key.get("authorization")
        print(conf.host, conf.ssl_ca_cert, token)
    """, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        str(tmp_path / "token"),
        str(tmp_path / "ca.crt"),
        done.stdout.splitlines()[2],
    ]
    assert done.stdout.splitlines()[2] in {  # client ≥ 31 writes "bearer", older ones "Bearer"
        f"https://127.0.0.1:6443 {tmp_path / 'ca.crt'} {scheme} s3cr3t" for scheme in ("bearer", "Bearer")}


def test_without_the_startup_directory_the_paths_stay_the_containers(tmp_path):
    done = run_python(
        "from kubernetes.config import incluster_config as c; print(c.SERVICE_TOKEN_FILENAME)",
        env=pod_env(tmp_path, pythonpath=""),
    )
    assert done.stdout.strip() == f"{ACCOUNT_DIR}/token"


def test_a_shadowed_sitecustomize_still_runs(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("print('the other sitecustomize ran')\n")
    done = run_python(
        "import sitecustomize; print(sitecustomize.__file__)",
        env=pod_env(tmp_path, pythonpath=os.pathsep.join([str(STARTUP_DIR), str(other)])),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "the other sitecustomize ran", str(other / "sitecustomize.py")
    ]


@pytest.fixture
def clean_imports(monkeypatch):
    """Imports and finders made by a test are undone after it."""
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def fake_client(root: Path, package: str) -> None:
    config = root / package / "config"
    config.mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    (config / "__init__.py").write_text("")
    (config / "incluster_config.py").write_text(
        f'SERVICE_TOKEN_FILENAME = "{ACCOUNT_DIR}/token"\n'
        f'SERVICE_CERT_FILENAME = "{ACCOUNT_DIR}/ca.crt"\n'
        f'namespace_file = "{ACCOUNT_DIR}/namespace"\n'
    )


def test_kubernetes_asyncio_is_mapped_on_import(tmp_path, monkeypatch, clean_imports):
    fake_client(tmp_path / "lib", "kubernetes_asyncio")
    sys.path.insert(0, str(tmp_path / "lib"))
    monkeypatch.setenv("SANDBOX_MOUNTS", json.dumps({ACCOUNT_DIR: "/host/sa"}))
    podboot.install()
    podboot.install()  # idempotent: one finder
    from kubernetes_asyncio.config import incluster_config  # type: ignore[import-not-found]

    assert incluster_config.SERVICE_TOKEN_FILENAME == "/host/sa/token"
    assert incluster_config.SERVICE_CERT_FILENAME == "/host/sa/ca.crt"
    assert incluster_config.namespace_file == f"{ACCOUNT_DIR}/namespace"  # only the named ones
    assert "SERVICE_TOKEN_FILENAME" in inspect.getsource(incluster_config)
    assert sum(isinstance(f, podboot._MappingFinder) for f in sys.meta_path) == 1


def test_a_module_imported_before_install_is_mapped_at_once(tmp_path, monkeypatch, clean_imports):
    fake_client(tmp_path / "lib", "kubernetes_asyncio")
    sys.path.insert(0, str(tmp_path / "lib"))
    from kubernetes_asyncio.config import incluster_config  # type: ignore[import-not-found]

    monkeypatch.setenv("SANDBOX_MOUNTS", json.dumps({ACCOUNT_DIR: "/host/sa"}))
    podboot.install()
    assert incluster_config.SERVICE_TOKEN_FILENAME == "/host/sa/token"
