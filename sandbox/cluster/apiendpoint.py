"""Where pods reach the cluster's API server, once one serves it.

In Kubernetes the API server always exists before any pod, and every pod
learns its address from the ``kubernetes`` Service (``KUBERNETES_SERVICE_HOST``
and friends) and its CA from the ``kube-root-ca.crt`` ConfigMap. The
in-process cluster starts without a REST API: the backend may add one
afterwards (``ApiServer``), on a port it only knows once bound, with a CA it
generated or loaded from the sandbox home. So the cluster layer holds one
:class:`ApiEndpoint` per cluster that starts empty and is filled in later::

    ApiServer.start ── publish(host, port, ca_crt) ──► ApiEndpoint ──► listeners
                                                          │             (root-ca-cert-publisher
                                                          │              re-queues every namespace)
    kubelet, at each container start ◄── host/port ───────┘   ──► KUBERNETES_SERVICE_* env

Everything that reads it tolerates the empty state: a container started
while no API server serves the cluster simply gets no ``KUBERNETES_*``
variables, and no ``kube-root-ca.crt`` is published until a CA is known.
:meth:`ApiEndpoint.publish` and :meth:`ApiEndpoint.withdraw` are called from
the event loop (listeners may enqueue work for controllers).
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.runtime import get_logger

__all__ = ["ApiEndpoint"]

log = get_logger(__name__)

Listener = Callable[[], None]


class ApiEndpoint:
    """The API server's address for pods and the CA bundle that verifies it."""

    def __init__(self) -> None:
        self.host = ""
        self.port = 0
        #: PEM bytes of the CA that signed the serving certificate (kept after
        #: :meth:`withdraw`: a restarted server in the same home reuses it).
        self.ca_crt = b""
        self._listeners: list[Listener] = []

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self.serving else "not serving"
        return f"<ApiEndpoint {where}>"

    @property
    def serving(self) -> bool:
        return bool(self.host and self.port)

    def publish(self, *, host: str, port: int, ca_crt: bytes) -> None:
        """An API server listens on ``host:port`` with a certificate signed by ``ca_crt``."""
        self.host, self.port, self.ca_crt = host, port, ca_crt
        self._notify()

    def withdraw(self) -> None:
        """The API server stopped: containers started from now on get no API address."""
        self.host, self.port = "", 0
        self._notify()

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener()`` after every :meth:`publish` and :meth:`withdraw`."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("API endpoint listener %r failed", listener)
