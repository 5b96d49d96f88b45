"""The API server's PKI: a sandbox CA and a serving certificate for loopback.

kubectl sends bearer tokens only over TLS (the reference's G1), so the API
server speaks HTTPS with a certificate clients can verify: on first start
this module creates, under ``<home>/pki/``::

    ca.crt  ca.key          CA "kf-sandbox-ca" (10 years)
    apiserver.crt/.key      serving certificate signed by it (1 year), for
                            127.0.0.1, ::1, localhost and the in-cluster names
                            of the ``kubernetes`` Service

and reuses them afterwards, so kubeconfigs and pods' ``ca.crt`` stay valid
across restarts. The serving certificate is re-issued (same CA) when it is
missing, expires within 30 days, or does not cover a requested name. Keys
are ECDSA P-256 (fast to generate, accepted by Go's and Python's TLS) and
written with mode 0600.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CA_NAME", "DEFAULT_HOSTS", "Pki", "ensure_pki"]

CA_NAME = "kf-sandbox-ca"
DEFAULT_HOSTS = (
    "127.0.0.1",
    "::1",
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
_CA_DAYS = 3650
_SERVING_DAYS = 365
_RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class Pki:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def cert(self) -> Path:
        return self.directory / "apiserver.crt"

    @property
    def key(self) -> Path:
        return self.directory / "apiserver.key"

    def ca_data(self) -> bytes:
        """The CA certificate (PEM), as a kubeconfig's ``certificate-authority-data`` carries it."""
        return self.ca_cert.read_bytes()


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_ca(pki: Pki) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(pki.ca_key, _key_pem(key))
    _write_private(pki.ca_cert, cert.public_bytes(serialization.Encoding.PEM))


def _san(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _covers(cert: x509.Certificate, hosts: Iterable[str]) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    present = {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    present |= set(san.get_values_for_type(x509.DNSName))
    wanted = set()
    for host in hosts:
        try:
            wanted.add(str(ipaddress.ip_address(host)))
        except ValueError:
            wanted.add(host)
    return wanted <= present


def _serving_is_current(pki: Pki, ca: x509.Certificate, hosts: tuple[str, ...]) -> bool:
    if not (pki.cert.exists() and pki.key.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(pki.cert.read_bytes())
    except ValueError:
        return False
    return (
        cert.issuer == ca.subject
        and cert.not_valid_after_utc - _RENEW_BEFORE > _now()
        and _covers(cert, hosts)
    )


def _new_serving(pki: Pki, ca: x509.Certificate, hosts: tuple[str, ...]) -> None:
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_SERVING_DAYS))
        .add_extension(x509.SubjectAlternativeName(_san(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(pki.key, _key_pem(key))
    _write_private(pki.cert, cert.public_bytes(serialization.Encoding.PEM))


def ensure_pki(directory: Path, *, hosts: Iterable[str] = ()) -> Pki:
    """The CA and serving certificate under ``directory``, created or renewed as needed."""
    pki = Pki(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    wanted = tuple(dict.fromkeys((*DEFAULT_HOSTS, *hosts)))
    if not (pki.ca_cert.exists() and pki.ca_key.exists()):
        _new_ca(pki)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    if not _serving_is_current(pki, ca, wanted):
        _new_serving(pki, ca, wanted)
    return pki
