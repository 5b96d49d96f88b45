"""Kubeconfig files: where a cluster is and who we are to it, as kubectl reads them.

:func:`load_kubeconfig` turns one kubeconfig file — or several, merged like
kubectl merges the ``KUBECONFIG`` list — into a :class:`KubeConfig`: the
one context the client will use, resolved to the API server's URL, the CA
it trusts, the credentials it presents and the namespace it defaults to.
:class:`~sandbox.client.kube.KubeClient` is built from it; nothing here does
any I/O beyond reading the files a kubeconfig names.

Which files, in kubectl's order:

- an explicit ``path`` (kubectl's ``--kubeconfig``): only that file, which
  must exist;
- otherwise ``$KUBECONFIG``, a list joined with ``os.pathsep``: files that do
  not exist are skipped; in the rest, the first file that defines a cluster,
  user or context of a name wins, and the first ``current-context`` wins;
- otherwise ``~/.kube/config``.

Relative file references (``certificate-authority``, ``client-certificate``,
``client-key``, ``tokenFile``) are relative to the file that holds them, as
in client-go. Supported credentials are a bearer ``token``/``tokenFile`` and
client certificates; ``exec`` plugins, ``auth-provider`` and basic auth are
refused with a message saying so, rather than silently connecting as
anonymous. Every error names the file(s), the entry and the missing piece.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["KubeConfig", "KubeconfigError", "kubeconfig_paths", "load_kubeconfig"]

DEFAULT_PATH = Path("~/.kube/config")


class KubeconfigError(ValueError):
    """A kubeconfig is missing, malformed, or lacks what the chosen context needs."""


@dataclass(frozen=True)
class KubeConfig:
    """One resolved context: everything a client needs to reach its cluster."""

    server: str
    context: str
    cluster: str
    user: str
    namespace: str = "default"
    #: PEM (or DER) of the CA to trust; ``None`` means the system's CAs.
    ca_data: bytes | None = field(default=None, repr=False)
    insecure_skip_tls_verify: bool = False
    token: str | None = field(default=None, repr=False)
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    #: The files merged, in order (for messages).
    sources: tuple[Path, ...] = ()


@dataclass
class _Entry:
    """A named cluster, user or context, with the file it came from."""

    body: Mapping[str, Any]
    source: Path


def kubeconfig_paths(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """The files kubectl would read, in merge order (existing ones only for ``$KUBECONFIG``)."""
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise KubeconfigError(f"kubeconfig {explicit} does not exist")
        return [explicit]
    env = os.environ.get("KUBECONFIG", "")
    if env.strip():
        listed = [Path(p).expanduser() for p in env.split(os.pathsep) if p]
        found: list[Path] = []
        for p in listed:
            if p.is_file() and p not in found:
                found.append(p)
        if not found:
            raise KubeconfigError(
                "none of the files in KUBECONFIG exist: " + ", ".join(str(p) for p in listed)
            )
        return found
    default = DEFAULT_PATH.expanduser()
    if not default.is_file():
        raise KubeconfigError(
            f"no kubeconfig: KUBECONFIG is not set and {default} does not exist"
        )
    return [default]


def _read(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise KubeconfigError(f"kubeconfig {path} is not valid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise KubeconfigError(f"kubeconfig {path} must be a mapping, not {type(data).__name__}")
    return data


def _collect(
    docs: list[tuple[Path, Mapping[str, Any]]], section: str, inner: str
) -> dict[str, _Entry]:
    """``clusters``/``users``/``contexts`` by name; the first file to define a name wins."""
    out: dict[str, _Entry] = {}
    for path, doc in docs:
        for item in doc.get(section) or ():
            if not isinstance(item, Mapping) or not item.get("name"):
                raise KubeconfigError(f"kubeconfig {path}: every entry of {section} needs a name")
            name = str(item["name"])
            if name not in out:
                body = item.get(inner) or {}
                if not isinstance(body, Mapping):
                    raise KubeconfigError(
                        f"kubeconfig {path}: {section} entry {name!r} has no {inner} mapping"
                    )
                out[name] = _Entry(body, path)
    return out


def _where(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths)


def _data(entry: _Entry, key: str, what: str) -> bytes | None:
    """``<key>-data`` (base64) or the file ``<key>`` names (relative to its kubeconfig)."""
    inline = entry.body.get(f"{key}-data")
    if inline:
        try:
            return base64.b64decode(str(inline), validate=True)
        except (binascii.Error, ValueError):
            raise KubeconfigError(
                f"{what}: {key}-data in {entry.source} is not valid base64"
            ) from None
    ref = entry.body.get(key)
    if not ref:
        return None
    file = _resolve(entry, str(ref))
    try:
        return file.read_bytes()
    except OSError as e:
        raise KubeconfigError(f"{what}: cannot read {key} {file}: {e.strerror}") from None


def _resolve(entry: _Entry, ref: str) -> Path:
    path = Path(ref).expanduser()
    return path if path.is_absolute() else entry.source.parent / path


def load_kubeconfig(
    path: str | os.PathLike[str] | None = None, *, context: str | None = None
) -> KubeConfig:
    """Resolve ``context`` (default: the current context) of the kubeconfig(s)."""
    paths = kubeconfig_paths(path)
    docs = [(p, _read(p)) for p in paths]
    clusters = _collect(docs, "clusters", "cluster")
    users = _collect(docs, "users", "user")
    contexts = _collect(docs, "contexts", "context")

    name = context
    if not name:
        name = next((str(d["current-context"]) for _, d in docs if d.get("current-context")), "")
        if not name:
            raise KubeconfigError(
                f"kubeconfig {_where(paths)} has no current-context; name a context "
                f"(known: {', '.join(sorted(contexts)) or 'none'})"
            )
    ctx = contexts.get(name)
    if ctx is None:
        raise KubeconfigError(
            f'context "{name}" does not exist in {_where(paths)} '
            f"(known: {', '.join(sorted(contexts)) or 'none'})"
        )

    cluster_name = str(ctx.body.get("cluster") or "")
    if not cluster_name:
        raise KubeconfigError(f'context "{name}" in {ctx.source} names no cluster')
    cluster = clusters.get(cluster_name)
    if cluster is None:
        raise KubeconfigError(
            f'context "{name}" names cluster "{cluster_name}", which is not in {_where(paths)}'
        )
    server = str(cluster.body.get("server") or "").rstrip("/")
    if not server:
        raise KubeconfigError(f'cluster "{cluster_name}" in {cluster.source} has no server')
    what = f'cluster "{cluster_name}"'
    ca_data = _data(cluster, "certificate-authority", what)
    insecure = bool(cluster.body.get("insecure-skip-tls-verify", False))

    user_name = str(ctx.body.get("user") or "")
    token: str | None = None
    cert: bytes | None = None
    key: bytes | None = None
    if user_name:
        user = users.get(user_name)
        if user is None:
            raise KubeconfigError(
                f'context "{name}" names user "{user_name}", which is not in {_where(paths)}'
            )
        token, cert, key = _credentials(user_name, user)

    return KubeConfig(
        server=server,
        context=name,
        cluster=cluster_name,
        user=user_name,
        namespace=str(ctx.body.get("namespace") or "default"),
        ca_data=ca_data,
        insecure_skip_tls_verify=insecure,
        token=token,
        client_cert_data=cert,
        client_key_data=key,
        sources=tuple(paths),
    )


def _credentials(name: str, user: _Entry) -> tuple[str | None, bytes | None, bytes | None]:
    what = f'user "{name}"'
    body = user.body
    token = body.get("token")
    if not token and body.get("tokenFile"):
        file = _resolve(user, str(body["tokenFile"]))
        try:
            token = file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise KubeconfigError(f"{what}: cannot read tokenFile {file}: {e.strerror}") from None
    cert = _data(user, "client-certificate", what)
    key = _data(user, "client-key", what)
    if cert and not key:
        raise KubeconfigError(
            f"{what} in {user.source} has a client certificate but no client-key-data or client-key"
        )
    if key and not cert:
        raise KubeconfigError(
            f"{what} in {user.source} has a client key but no client-certificate-data "
            "or client-certificate"
        )
    if not token and not cert:
        for unsupported in ("exec", "auth-provider", "username"):
            if body.get(unsupported):
                label = "basic auth" if unsupported == "username" else f"{unsupported} credentials"
                raise KubeconfigError(
                    f"{what} in {user.source} uses {label}, which sandbox.client.kubeconfig does "
                    "not support; use a token, tokenFile or client certificates"
                )
    return (str(token) if token else None), cert, key
