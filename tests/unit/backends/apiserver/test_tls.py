"""The PKI under the sandbox home and the kubeconfig written from it."""

from __future__ import annotations

import base64
import ipaddress
from pathlib import Path

import yaml
from cryptography import x509

from sandbox.backends.inprocess.apiserver.kubeconfig import write_kubeconfig
from sandbox.backends.inprocess.apiserver.tls import ensure_pki


def _sans(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} | set(
        san.get_values_for_type(x509.DNSName))


def test_first_start_creates_a_ca_and_a_loopback_serving_certificate(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    serving = x509.load_pem_x509_certificate(pki.cert.read_bytes())
    assert ca.subject.rfc4514_string() == "CN=kf-sandbox-ca"
    assert serving.issuer == ca.subject
    assert {"127.0.0.1", "localhost", "kubernetes.default.svc"} <= _sans(pki.cert)
    for key in (pki.ca_key, pki.key):
        assert key.stat().st_mode & 0o777 == 0o600


def test_later_starts_reuse_the_pki_unless_a_name_is_missing(tmp_path: Path) -> None:
    first = ensure_pki(tmp_path / "pki")
    ca, cert = first.ca_cert.read_bytes(), first.cert.read_bytes()
    again = ensure_pki(tmp_path / "pki")
    assert (again.ca_cert.read_bytes(), again.cert.read_bytes()) == (ca, cert)
    wider = ensure_pki(tmp_path / "pki", hosts=("10.0.0.5",))
    assert wider.ca_cert.read_bytes() == ca and wider.cert.read_bytes() != cert
    assert str(ipaddress.ip_address("10.0.0.5")) in _sans(wider.cert)


def test_kubeconfig_names_cluster_user_and_context_with_mode_0600(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "kubeconfig", server="https://127.0.0.1:6443",
                            ca_data=b"PEM", token="t0k")
    config = yaml.safe_load(path.read_text())
    assert path.stat().st_mode & 0o777 == 0o600
    assert config["current-context"] == "kf-sandbox"
    cluster = config["clusters"][0]["cluster"]
    assert base64.b64decode(cluster["certificate-authority-data"]) == b"PEM"
    assert config["users"][0] == {"name": "kubernetes-admin", "user": {"token": "t0k"}}
    assert config["contexts"][0]["context"] == {"cluster": "kf-sandbox", "user": "kubernetes-admin",
                                                "namespace": "default"}
