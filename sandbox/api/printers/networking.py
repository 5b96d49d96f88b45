"""How traffic kinds print: Services, Endpoints, Ingresses and NetworkPolicies.

A Service's EXTERNAL-IP depends on its type (``<none>``, the load balancer's
addresses or ``<pending>``, the external name), PORT(S) reads ``80/TCP`` or
``80:30080/TCP`` with a node port; Endpoints show the first three
``ip:port`` then ``+ N more...``. Load-balancer addresses are clipped to 16
characters unless the table is wide, as in Go.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sandbox.api.printers.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    Column,
    Printer,
    PrintOptions,
    age_of,
    as_int,
    format_label_selector,
    format_labels,
    get,
    name_of,
)

__all__ = ["ENDPOINTS", "INGRESS", "NETWORK_POLICY", "PRINTERS", "SERVICE"]

_LOAD_BALANCER_WIDTH = 16


def _load_balancer_addresses(status: Any, *, wide: bool) -> str:
    """``loadBalancerStatusStringer``: unique IPs/hostnames, clipped to 16 bytes unless wide."""
    found = {i.get("ip") or i.get("hostname") for i in get(status, "ingress", default=[])}
    text = ",".join(sorted(a for a in found if a))
    if not wide and len(text) > _LOAD_BALANCER_WIDTH:
        text = text[: _LOAD_BALANCER_WIDTH - 3] + "..."
    return text


def _service_external_ip(svc: Mapping[str, Any], *, wide: bool) -> str:
    spec = svc.get("spec") or {}
    external = spec.get("externalIPs") or []
    svc_type = spec.get("type") or "ClusterIP"
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if svc_type == "LoadBalancer":
        lb = _load_balancer_addresses(get(svc, "status", "loadBalancer"), wide=wide)
        if external:
            return ",".join([*(lb.split(",") if lb else []), *external])
        return lb or "<pending>"
    if svc_type == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def _service_cells(svc: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = svc.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for port in spec.get("ports") or []:
        protocol = port.get("protocol") or "TCP"
        node_port = as_int(port.get("nodePort"))
        if node_port > 0:
            ports.append(f"{port.get('port')}:{node_port}/{protocol}")
        else:
            ports.append(f"{port.get('port')}/{protocol}")
    return [
        name_of(svc),
        spec.get("type") or "ClusterIP",
        cluster_ips[0] if cluster_ips else "<none>",
        _service_external_ip(svc, wide=opts.wide),
        ",".join(ports) or "<none>",
        age_of(svc, opts),
        format_labels(spec.get("selector")),
    ]


SERVICE = Printer(
    columns=(
        NAME_COLUMN,
        Column("Type", description=("core.v1.ServiceSpec", "type")),
        Column("Cluster-IP", description=("core.v1.ServiceSpec", "clusterIP")),
        Column("External-IP", description=("core.v1.ServiceSpec", "externalIPs")),
        Column("Port(s)", description=("core.v1.ServiceSpec", "ports")),
        AGE_COLUMN,
        Column("Selector", priority=1, description=("core.v1.ServiceSpec", "selector")),
    ),
    cells=_service_cells,
)


def _host_port(ip: str, port: Any) -> str:
    """``net.JoinHostPort``: brackets around IPv6 addresses."""
    try:
        is_v6 = ipaddress.ip_address(ip).version == 6
    except ValueError:
        is_v6 = ":" in ip
    return f"[{ip}]:{port}" if is_v6 else f"{ip}:{port}"


def _format_endpoints(endpoints: Mapping[str, Any]) -> str:
    """``formatEndpoints``: the first three ``ip:port``, then ``+ N more...``."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit, count, more = 3, 0, False
    for subset in subsets:
        addresses = [a.get("ip") or "" for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        # Headless services may have no ports: list the bare addresses.
        pairs = [(addresses, None)] if not ports else [(addresses, p.get("port")) for p in ports]
        for ips, port in pairs:
            count += len(ips)
            for ip in ips:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(ip if port is None else _host_port(ip, port))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text


ENDPOINTS = Printer(
    columns=(
        NAME_COLUMN,
        Column("Endpoints", description=("core.v1.Endpoints", "subsets")),
        AGE_COLUMN,
    ),
    cells=lambda ep, opts: [name_of(ep), _format_endpoints(ep), age_of(ep, opts)],
)


def _ingress_hosts(rules: list[Any]) -> str:
    """``formatHosts``: the first three hosts, ``*`` when none."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        more = more or len(hosts) == 3
        if not more and rule.get("host"):
            hosts.append(str(rule["host"]))
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - 3} more..." if more else text


def _ingress_cells(ing: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = ing.get("spec") or {}
    return [
        name_of(ing),
        spec.get("ingressClassName") or "<none>",
        _ingress_hosts(spec.get("rules") or []),
        _load_balancer_addresses(get(ing, "status", "loadBalancer"), wide=opts.wide),
        "80, 443" if spec.get("tls") else "80",
        age_of(ing, opts),
    ]


INGRESS = Printer(
    columns=(
        NAME_COLUMN,
        Column(
            "Class",
            description="The name of the IngressClass resource that should be used for additional configuration",
        ),
        Column(
            "Hosts",
            description="Hosts that incoming requests are matched against before the ingress rule",
        ),
        Column(
            "Address",
            description="Address is a list containing ingress points for the load-balancer",
        ),
        Column("Ports", description="Ports of TLS configurations that open"),
        AGE_COLUMN,
    ),
    cells=_ingress_cells,
)

NETWORK_POLICY = Printer(
    columns=(
        NAME_COLUMN,
        Column("Pod-Selector", description=("networking.v1.NetworkPolicySpec", "podSelector")),
        AGE_COLUMN,
    ),
    cells=lambda np, opts: [
        name_of(np),
        format_label_selector(get(np, "spec", "podSelector", default={})),
        age_of(np, opts),
    ],
)


PRINTERS: dict[str, Printer] = {
    "Service": SERVICE,
    "Endpoints": ENDPOINTS,
    "Ingress.networking.k8s.io": INGRESS,
    "NetworkPolicy.networking.k8s.io": NETWORK_POLICY,
}
