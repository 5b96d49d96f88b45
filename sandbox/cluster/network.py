"""Loopback networking: pod IPs and Service cluster IPs on 127.0.0.0/8.

On Linux every address in 127.0.0.0/8 reaches the loopback interface, so
each pod can have its own ``podIP`` and listen on its declared ports without
clashing with its neighbours, and a Service's ``clusterIP`` can be a real
address a small proxy listens on. Each node owns a /24 of the pod range as
``spec.podCIDR`` (node *i* gets the *i*-th /24), and its kubelet hands out
addresses from it.

Where only 127.0.0.1 is usable (macOS without aliases), ``loopback_range_usable()``
is false and the cluster falls back to 127.0.0.1 for every pod; pods must then
use distinct ports (docs/explanation/fidelity.md).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from functools import lru_cache

__all__ = ["IPAllocator", "loopback_range_usable", "node_pod_cidr"]


def node_pod_cidr(cluster_cidr: str, index: int) -> str:
    """The /24 of ``cluster_cidr`` for the node with this index."""
    network = ipaddress.ip_network(cluster_cidr)
    subnets = network.subnets(new_prefix=24)
    for i, subnet in enumerate(subnets):
        if i == index:
            return str(subnet)
    raise ValueError(f"{cluster_cidr} has no room for node #{index} (one /24 per node)")


class IPAllocator:
    """Hands out the host addresses of one network, skipping .0, .1 and broadcast."""

    def __init__(self, cidr: str) -> None:
        self.network = ipaddress.ip_network(cidr)
        self._lock = threading.Lock()
        self._used: set[str] = set()
        self._hosts = [str(h) for h in self.network.hosts()][1:]  # .1 is the "gateway"
        self._next = 0

    def allocate(self) -> str:
        with self._lock:
            for _ in range(len(self._hosts)):
                address = self._hosts[self._next % len(self._hosts)]
                self._next += 1
                if address not in self._used:
                    self._used.add(address)
                    return address
        raise RuntimeError(f"no free address left in {self.network}")

    def reserve(self, address: str) -> None:
        with self._lock:
            self._used.add(address)

    def release(self, address: str) -> None:
        with self._lock:
            self._used.discard(address)

    def __contains__(self, address: str) -> bool:
        return ipaddress.ip_address(address) in self.network


@lru_cache(maxsize=1)
def loopback_range_usable() -> bool:
    """Whether this host can bind an address other than 127.0.0.1 on loopback."""
    if sys.platform.startswith("linux"):
        return True
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind(("127.16.0.2", 0))
    except OSError:
        return False
    finally:
        probe.close()
    return True
