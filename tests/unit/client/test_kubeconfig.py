"""Kubeconfig loading: contexts, credentials, KUBECONFIG merging, and errors that name what is missing."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.client.kubeconfig import KubeconfigError, kubeconfig_paths, load_kubeconfig

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(
    *,
    current: str | None = "admin@sandbox",
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    contexts: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in (clusters if clusters is not None else {
            "sandbox": {"server": "https://127.0.0.1:6443/",
                        "certificate-authority-data": b64(CA)}}).items()],
        "users": [{"name": n, "user": u} for n, u in (users if users is not None else {
            "admin": {"token": "s3cret"}}).items()],
        "contexts": [{"name": n, "context": c} for n, c in (contexts if contexts is not None else {
            "admin@sandbox": {"cluster": "sandbox", "user": "admin"}}).items()],
    }
    if current is not None:
        doc["current-context"] = current
    return doc


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(autouse=True)
def no_ambient_kubeconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_the_current_context_gives_server_ca_token_and_namespace(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig())
    config = load_kubeconfig(path)
    assert config.server == "https://127.0.0.1:6443"
    assert config.ca_data == CA
    assert config.token == "s3cret"
    assert config.namespace == "default"
    assert (config.context, config.cluster, config.user) == ("admin@sandbox", "sandbox", "admin")
    assert config.sources == (path,)


def test_secrets_stay_out_of_the_repr(tmp_path: Path) -> None:
    config = load_kubeconfig(write(tmp_path / "config", kubeconfig()))
    assert "s3cret" not in repr(config)


def test_a_named_context_with_a_namespace_is_chosen_over_the_current_one(tmp_path: Path) -> None:
    doc = kubeconfig(contexts={
        "admin@sandbox": {"cluster": "sandbox", "user": "admin"},
        "team": {"cluster": "sandbox", "user": "admin", "namespace": "kubeflow-user"},
    })
    config = load_kubeconfig(write(tmp_path / "config", doc), context="team")
    assert (config.context, config.namespace) == ("team", "kubeflow-user")


def test_files_named_by_a_kubeconfig_are_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_bytes(CA)
    (tmp_path / "certs" / "token").write_text("from-file\n")
    (tmp_path / "certs" / "client.crt").write_bytes(b"CERT")
    (tmp_path / "certs" / "client.key").write_bytes(b"KEY")
    doc = kubeconfig(
        clusters={"sandbox": {"server": "https://127.0.0.1:6443", "certificate-authority": "certs/ca.crt"}},
        users={"admin": {"tokenFile": "certs/token", "client-certificate": "certs/client.crt",
                         "client-key": "certs/client.key"}},
    )
    config = load_kubeconfig(write(tmp_path / "config", doc))
    assert config.ca_data == CA
    assert config.token == "from-file"
    assert (config.client_cert_data, config.client_key_data) == (b"CERT", b"KEY")


def test_client_certificate_data_and_insecure_skip_tls_verify(tmp_path: Path) -> None:
    doc = kubeconfig(
        clusters={"kind": {"server": "https://127.0.0.1:40000", "insecure-skip-tls-verify": True}},
        users={"kind-admin": {"client-certificate-data": b64(b"CERT"), "client-key-data": b64(b"KEY")}},
        contexts={"kind-kind": {"cluster": "kind", "user": "kind-admin"}},
        current="kind-kind",
    )
    config = load_kubeconfig(write(tmp_path / "config", doc))
    assert config.insecure_skip_tls_verify
    assert config.ca_data is None and config.token is None
    assert (config.client_cert_data, config.client_key_data) == (b"CERT", b"KEY")


def test_a_context_without_a_user_is_anonymous(tmp_path: Path) -> None:
    doc = kubeconfig(contexts={"anon": {"cluster": "sandbox"}}, current="anon")
    config = load_kubeconfig(write(tmp_path / "config", doc))
    assert config.user == "" and config.token is None


def test_kubeconfig_lists_merge_with_the_first_definition_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path / "a", kubeconfig(
        current=None,
        clusters={"sandbox": {"server": "https://first:6443"}},
        users={"admin": {"token": "first"}},
        contexts={},
    ))
    second = write(tmp_path / "b", kubeconfig(
        current="admin@sandbox",
        clusters={"sandbox": {"server": "https://second:6443"}, "other": {"server": "https://o"}},
        users={"admin": {"token": "second"}},
    ))
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(str(p) for p in (first, missing, second)))
    assert kubeconfig_paths() == [first, second]
    config = load_kubeconfig()
    assert (config.server, config.token) == ("https://first:6443", "first")
    assert config.context == "admin@sandbox"  # from the only file that sets it
    assert config.sources == (first, second)


def test_the_first_current_context_in_the_list_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contexts = {"one": {"cluster": "sandbox", "user": "admin"},
                "two": {"cluster": "sandbox", "user": "admin", "namespace": "two"}}
    a = write(tmp_path / "a", kubeconfig(current="two", contexts=contexts))
    b = write(tmp_path / "b", kubeconfig(current="one", contexts=contexts))
    monkeypatch.setenv("KUBECONFIG", f"{a}{os.pathsep}{b}")
    assert load_kubeconfig().context == "two"


def test_the_default_file_is_under_the_home(tmp_path: Path) -> None:
    write(tmp_path / "home" / ".kube" / "config", kubeconfig())
    assert load_kubeconfig().server == "https://127.0.0.1:6443"


# Errors that name the missing piece -------------------------------------------------------


def test_no_kubeconfig_anywhere(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match=r"KUBECONFIG is not set and .*\.kube/config does not exist"):
        load_kubeconfig()


def test_an_explicit_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match=r"kubeconfig .*/absent does not exist"):
        load_kubeconfig(tmp_path / "absent")


def test_a_kubeconfig_list_of_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nope"))
    with pytest.raises(KubeconfigError, match="none of the files in KUBECONFIG exist"):
        load_kubeconfig()


def test_no_current_context_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig(current=None))
    with pytest.raises(KubeconfigError, match=r"has no current-context; name a context \(known: admin@sandbox\)"):
        load_kubeconfig(path)


def test_an_unknown_context(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig())
    with pytest.raises(KubeconfigError, match=r'context "prod" does not exist in .* \(known: admin@sandbox\)'):
        load_kubeconfig(path, context="prod")


def test_a_context_naming_a_missing_cluster(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig(contexts={"c": {"cluster": "gone", "user": "admin"}},
                                                 current="c"))
    with pytest.raises(KubeconfigError, match='context "c" names cluster "gone", which is not in'):
        load_kubeconfig(path)


def test_a_context_naming_a_missing_user(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig(contexts={"c": {"cluster": "sandbox", "user": "bob"}},
                                                 current="c"))
    with pytest.raises(KubeconfigError, match='context "c" names user "bob", which is not in'):
        load_kubeconfig(path)


def test_a_cluster_without_a_server(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig(clusters={"sandbox": {}}))
    with pytest.raises(KubeconfigError, match=r'cluster "sandbox" in .* has no server'):
        load_kubeconfig(path)


def test_a_missing_certificate_authority_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig(
        clusters={"sandbox": {"server": "https://x", "certificate-authority": "ca.crt"}}))
    with pytest.raises(KubeconfigError, match=r'cluster "sandbox": cannot read certificate-authority .*/ca.crt'):
        load_kubeconfig(path)


def test_certificate_authority_data_that_is_not_base64(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig(
        clusters={"sandbox": {"server": "https://x", "certificate-authority-data": "not base64!"}}))
    with pytest.raises(KubeconfigError, match=r"certificate-authority-data in .* is not valid base64"):
        load_kubeconfig(path)


def test_a_client_certificate_without_its_key(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig(users={"admin": {"client-certificate-data": b64(b"C")}}))
    with pytest.raises(KubeconfigError, match=r'user "admin" .* has a client certificate but no client-key'):
        load_kubeconfig(path)


def test_exec_credentials_are_refused_rather_than_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig(users={"admin": {"exec": {"command": "gke-auth"}}}))
    with pytest.raises(KubeconfigError, match=r'user "admin" .* uses exec credentials, which .* does not support'):
        load_kubeconfig(path)


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("- just\n- a list\n")
    with pytest.raises(KubeconfigError, match="must be a mapping"):
        load_kubeconfig(path)
