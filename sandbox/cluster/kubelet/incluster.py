"""What a container needs to reach the API server from inside: env and, for Python, paths.

Kubernetes gives every container the variables of the ``kubernetes`` Service
of the ``default`` namespace (whatever ``enableServiceLinks`` says), and
client libraries build their in-cluster configuration from them and from the
files the ServiceAccount admission plugin mounts at
``/var/run/secrets/kubernetes.io/serviceaccount``::

    KUBERNETES_SERVICE_HOST=10.96.0.1        KUBERNETES_PORT=tcp://10.96.0.1:443
    KUBERNETES_SERVICE_PORT=443              KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443
    KUBERNETES_SERVICE_PORT_HTTPS=443        KUBERNETES_PORT_443_TCP_PROTO=tcp
                                             KUBERNETES_PORT_443_TCP_PORT=443
                                             KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1

Where they point in the sandbox, and why: on a real node kube-proxy makes
the ``kubernetes`` Service's ``clusterIP:443`` reach the API server, whose
certificate names that IP. The sandbox's service proxy could forward a
cluster IP the same way, but

- port 443 needs root, so a ``kubernetes`` Service on 443 cannot be served
  by a normal user;
- a Service on the API server's own port would work only where the whole of
  127.0.0.0/8 is routed to loopback (not macOS), would need the Service IP in
  the serving certificate, and would add a proxy hop to every API call;

so the variables point straight at the API server's own address and port
(``127.0.0.1:<port>``), which its certificate names and which works for any
user on any OS. Same variable family and format as Kubernetes; only the
values differ (docs/explanation/fidelity.md). The address comes from the
cluster's :class:`~sandbox.cluster.apiendpoint.ApiEndpoint` when the
container starts: a container started while no API server serves the
cluster gets none of these variables (its in-cluster client fails with
"Service host/port is not set", as outside a cluster).

Python containers also get :mod:`sandbox.podboot`'s startup directory first
on ``PYTHONPATH``, so that ``kubernetes.config.load_incluster_config()``
reads the token and CA from their host paths, and a server binding
``0.0.0.0`` listens on its pod's IP (:mod:`sandbox.podboot.binding`),
without any change to the program.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.podboot import STARTUP_DIR

__all__ = ["api_server_env", "python_startup_env"]


def api_server_env(endpoint: ApiEndpoint | None) -> dict[str, str]:
    """The ``kubernetes`` Service's variables, for the API server the endpoint names."""
    if endpoint is None or not endpoint.serving:
        return {}
    host, port = endpoint.host, str(endpoint.port)
    url = f"tcp://{host}:{port}"
    prefix = f"KUBERNETES_PORT_{port}_TCP"
    return {
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": port,
        "KUBERNETES_SERVICE_PORT_HTTPS": port,
        "KUBERNETES_PORT": url,
        prefix: url,
        f"{prefix}_PROTO": "tcp",
        f"{prefix}_PORT": port,
        f"{prefix}_ADDR": host,
    }


def python_startup_env(env: Mapping[str, str]) -> dict[str, str]:
    """``PYTHONPATH`` with the startup directory first (a Python container's)."""
    rest = env.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(STARTUP_DIR), rest) if p)}
