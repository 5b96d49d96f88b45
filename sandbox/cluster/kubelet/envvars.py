"""A container's environment from its ``env`` and ``envFrom``, as the kubelet builds it.

Order and precedence follow Kubernetes' ``makeEnvironmentVariables``:

1. the Service variables the kubelet adds (``service_env``: the
   ``KUBERNETES_*`` family, :mod:`.incluster`), which anything the
   container defines overrides and its ``$(VAR)`` references may use;
2. ``envFrom`` sources in order (a later source wins a clash), each key
   with the source's ``prefix``;
3. ``env`` entries in order, overriding anything before. A ``value`` is
   ``$(VAR)``-expanded against the variables defined so far; ``valueFrom``
   reads a pod field or container resource (:mod:`.downward`), or a key of a
   ConfigMap or Secret (read through the client, once per resolution).

A missing ConfigMap, Secret or key that is not ``optional`` stops the
container from being created: :class:`ContainerConfigError` carries
Kubernetes' message (``configmap "x" not found``, ``couldn't find key k in
ConfigMap ns/x``), which the kubelet shows as the waiting reason
``CreateContainerConfigError``. Keys of an ``envFrom`` source that cannot be
variable names (Kubernetes 1.31's ``IsEnvVarName``: a letter, ``-``, ``.``
or ``_`` first) are skipped and reported back so the kubelet can say so in
an event, as Kubernetes does.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.api.errors import NotFound
from sandbox.client.protocol import Client
from sandbox.cluster.kubelet.downward import DownwardError, field_value, resource_value
from sandbox.cluster.kubelet.expansion import expand

__all__ = ["ContainerConfigError", "EnvResult", "config_map_data", "resolve_env", "secret_data"]


class ContainerConfigError(Exception):
    """The container's configuration cannot be resolved (CreateContainerConfigError)."""


@dataclass
class EnvResult:
    env: dict[str, str]
    #: (source description, skipped keys) for envFrom keys that are not valid names.
    skipped: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class _Sources:
    """ConfigMaps and Secrets read during one resolution (``None``: not found)."""

    client: Client
    namespace: str
    config_maps: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    secrets: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    async def config_map(self, name: str) -> dict[str, Any] | None:
        if name not in self.config_maps:
            self.config_maps[name] = await self._get("ConfigMap", name)
        return self.config_maps[name]

    async def secret(self, name: str) -> dict[str, Any] | None:
        if name not in self.secrets:
            self.secrets[name] = await self._get("Secret", name)
        return self.secrets[name]

    async def _get(self, kind: str, name: str) -> dict[str, Any] | None:
        try:
            return await self.client.get("v1", kind, name, namespace=self.namespace)
        except NotFound:
            return None


def config_map_data(config_map: Mapping[str, Any]) -> dict[str, str]:
    """A ConfigMap's ``data`` (``binaryData`` decoded as text where possible)."""
    data = {k: str(v) for k, v in (config_map.get("data") or {}).items()}
    for key, value in (config_map.get("binaryData") or {}).items():
        data.setdefault(key, base64.b64decode(value).decode(errors="replace"))
    return data


def secret_data(secret: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's decoded ``data`` plus any ``stringData`` not folded in yet."""
    data = {
        key: base64.b64decode(value).decode(errors="replace")
        for key, value in (secret.get("data") or {}).items()
    }
    data.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
    return data


async def resolve_env(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    *,
    client: Client,
    pod_ip: str,
    host_ip: str,
    node_allocatable: Mapping[str, Any],
    service_env: Mapping[str, str] | None = None,
) -> EnvResult:
    """The container's variables in definition order, or :class:`ContainerConfigError`."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    sources = _Sources(client, namespace)
    result = EnvResult(env=dict(service_env or {}))
    env = result.env

    for source in container.get("envFrom") or ():
        prefix = source.get("prefix") or ""
        if "configMapRef" in source:
            ref = source["configMapRef"] or {}
            found = await sources.config_map(ref.get("name", ""))
            if found is None:
                if ref.get("optional"):
                    continue
                raise ContainerConfigError(f'configmap "{ref.get("name", "")}" not found')
            data, what = config_map_data(found), f"configMap {namespace}/{ref.get('name', '')}"
        elif "secretRef" in source:
            ref = source["secretRef"] or {}
            found = await sources.secret(ref.get("name", ""))
            if found is None:
                if ref.get("optional"):
                    continue
                raise ContainerConfigError(f'secret "{ref.get("name", "")}" not found')
            data, what = secret_data(found), f"secret {namespace}/{ref.get('name', '')}"
        else:
            continue
        invalid = sorted(key for key in data if not _valid_name(prefix + key))
        if invalid:
            result.skipped.append((what, invalid))
        for key, value in data.items():
            if _valid_name(prefix + key):
                env[prefix + key] = value

    for var in container.get("env") or ():
        name = var.get("name", "")
        value_from = var.get("valueFrom")
        if not value_from:
            env[name] = expand(str(var.get("value", "")), env)
            continue
        value = await _value_from(
            value_from, pod, container, sources, namespace,
            pod_ip=pod_ip, host_ip=host_ip, node_allocatable=node_allocatable,
        )
        if value is not None:
            env[name] = value
    return result


async def _value_from(
    value_from: Mapping[str, Any],
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    sources: _Sources,
    namespace: str,
    *,
    pod_ip: str,
    host_ip: str,
    node_allocatable: Mapping[str, Any],
) -> str | None:
    """One ``valueFrom``; ``None`` when an optional reference is missing."""
    try:
        if "fieldRef" in value_from:
            path = (value_from["fieldRef"] or {}).get("fieldPath", "")
            return field_value(pod, path, pod_ip=pod_ip, host_ip=host_ip)
        if "resourceFieldRef" in value_from:
            ref = value_from["resourceFieldRef"] or {}
            return resource_value(
                pod, ref.get("containerName") or container.get("name", ""), ref.get("resource", ""),
                divisor=ref.get("divisor"), node_allocatable=node_allocatable,
            )
    except DownwardError as err:
        raise ContainerConfigError(str(err)) from None
    for kind, ref_key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
        if ref_key not in value_from:
            continue
        ref = value_from[ref_key] or {}
        name, key, optional = ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional"))
        if kind == "ConfigMap":
            found = await sources.config_map(name)
            data = config_map_data(found) if found is not None else None
        else:
            found = await sources.secret(name)
            data = secret_data(found) if found is not None else None
        if data is None:
            if optional:
                return None
            raise ContainerConfigError(f'{kind.lower()} "{name}" not found')
        if key not in data:
            if optional:
                return None
            raise ContainerConfigError(f"couldn't find key {key} in {kind} {namespace}/{name}")
        return data[key]
    return None


_ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def _valid_name(name: str) -> bool:
    """Kubernetes 1.31's ``IsEnvVarName`` (the relaxed rule is not on by default)."""
    return bool(_ENV_VAR_NAME.match(name))
