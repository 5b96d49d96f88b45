"""Container env: values, downward API, ConfigMap/Secret references, envFrom."""

from __future__ import annotations

import base64

import pytest

from sandbox.cluster.kubelet.envvars import ContainerConfigError, resolve_env

NODE = {"cpu": "8", "memory": "16Gi"}


def a_pod(container, **metadata):
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1",
                     "labels": {"app": "web"}, "annotations": {"team": "ml"}, **metadata},
        "spec": {"nodeName": "node-1", "serviceAccountName": "default", "containers": [container]},
    }


async def env_of(client, container, **kwargs):
    result = await resolve_env(a_pod(container), container, client=client, pod_ip="127.16.0.5",
                               host_ip="127.0.0.1", node_allocatable=NODE, **kwargs)
    return result.env


async def test_values_expand_variables_defined_before_them(client):
    env = await env_of(client, {"name": "c", "env": [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "$(A)-$(C)-$$(A)"},
        {"name": "C", "value": "3"},
    ]})
    assert env == {"A": "1", "B": "1-$(C)-$(A)", "C": "3"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("metadata.name", "web"),
        ("metadata.namespace", "default"),
        ("metadata.uid", "uid-1"),
        ("metadata.labels['app']", "web"),
        ("metadata.labels['missing']", ""),
        ("metadata.annotations['team']", "ml"),
        ("spec.nodeName", "node-1"),
        ("spec.serviceAccountName", "default"),
        ("status.podIP", "127.16.0.5"),
        ("status.hostIP", "127.0.0.1"),
    ],
)
async def test_field_refs_read_the_pod(client, path, value):
    env = await env_of(client, {"name": "c", "env": [
        {"name": "X", "valueFrom": {"fieldRef": {"fieldPath": path}}}]})
    assert env["X"] == value


async def test_resource_field_refs_divide_and_round_up_and_default_to_the_node(client):
    container = {"name": "c", "resources": {"limits": {"memory": "100Mi"}, "requests": {"cpu": "250m"}},
                 "env": [
                     {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                     {"name": "CPU_M", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
                     {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},
                     {"name": "NODE_CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                 ]}
    env = await env_of(client, container)
    assert env == {"MEM": "100", "CPU_M": "250", "CPU": "1", "NODE_CPU": "8"}


async def test_config_map_and_secret_keys(client):
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                         "data": {"mode": "fast"}})
    await client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                         "data": {"token": base64.b64encode(b"s3cr3t").decode()}})
    env = await env_of(client, {"name": "c", "env": [
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
        {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}}},
    ]})
    assert env == {"MODE": "fast", "TOKEN": "s3cr3t"}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ({"configMapKeyRef": {"name": "nope", "key": "k"}}, 'configmap "nope" not found'),
        ({"secretKeyRef": {"name": "nope", "key": "k"}}, 'secret "nope" not found'),
        ({"configMapKeyRef": {"name": "cfg", "key": "absent"}},
         "couldn't find key absent in ConfigMap default/cfg"),
    ],
)
async def test_missing_references_are_config_errors_with_kubernetes_messages(client, ref, message):
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                         "data": {"mode": "fast"}})
    with pytest.raises(ContainerConfigError) as caught:
        await env_of(client, {"name": "c", "env": [{"name": "X", "valueFrom": ref}]})
    assert str(caught.value) == message


async def test_env_from_prefixes_keys_and_env_overrides_it(client):
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                         "data": {"mode": "fast", "size": "3"}})
    container = {"name": "c", "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "APP_"},
                                          {"secretRef": {"name": "missing", "optional": True}}],
                 "env": [{"name": "APP_size", "value": "4"}]}
    assert await env_of(client, container) == {"APP_mode": "fast", "APP_size": "4"}


async def test_env_from_skips_invalid_names_and_reports_them(client):
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                         "data": {"ok": "1", "1st": "2"}})
    container = {"name": "c", "envFrom": [{"configMapRef": {"name": "cfg"}}]}
    result = await resolve_env(a_pod(container), container, client=client, pod_ip="", host_ip="",
                               node_allocatable=NODE)
    assert result.env == {"ok": "1"}
    assert result.skipped == [("configMap default/cfg", ["1st"])]
