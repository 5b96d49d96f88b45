"""The Kubernetes REST API of the in-process cluster: what kubectl and the official client talk to.

:func:`create_app` builds the ASGI app over a store (tests drive it through
``httpx.ASGITransport``); :class:`.server.ApiServer` serves it over HTTPS on
loopback with a generated CA, a token file and a kubeconfig.

Module map, in request order:

- :mod:`.app` — the pipeline (authenticate, authorize, route) and fixed paths;
- :mod:`.auth` (tokens, ServiceAccounts, impersonation), :mod:`.rbacsource`
  (RBAC over the store's objects), :mod:`.requestinfo` (verb, resource …);
- :mod:`.context` (one request, the shared server state), :mod:`.negotiation`
  (Accept and Content-Type) with :mod:`.protobuf` (kubectl ≥ 1.32's bodies);
- :mod:`.handlers` (REST verbs), :mod:`.writes` (what writes share),
  :mod:`.subresources` with :mod:`.scale`, :mod:`.watch`, :mod:`.logs`,
  :mod:`.proxy` (``pods/proxy``, ``services/proxy``), :mod:`.reviews`;
- :mod:`.faults` (``/sandbox/v1/faults/...``: kill a container's process,
  pause a controller — a sandbox addition);
- :mod:`.render` (Tables, metadata-only forms), :mod:`.responses` (ASGI answers);
- :mod:`.health`, :mod:`.discovery`, :mod:`.openapi` (non-resource documents);
- :mod:`.bootstrap` (default RBAC, ClusterRole aggregation), :mod:`.tls`,
  :mod:`.kubeconfig`, :mod:`.server` (serving).
"""

from sandbox.backends.inprocess.apiserver.app import create_app

__all__ = ["create_app"]
