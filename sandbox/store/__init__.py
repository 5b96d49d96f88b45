"""The store: the fake API server's core.

Versioned objects, optimistic concurrency, the status subresource, finalizers
and deletion, namespaces, CRD registration, admission, watches with a bounded
history, and persistence (memory or SQLite). Only ``sandbox.client`` (the
in-memory client) and the faces that assemble a cluster use it directly;
controllers see it only through the client protocol.
"""

from sandbox.store.admission import AdmissionChain, AdmissionRequest
from sandbox.store.persistence import MemoryPersistence, SqlitePersistence
from sandbox.store.store import BOOTSTRAP_NAMESPACES, Store
from sandbox.store.watch import Change, Watcher

__all__ = [
    "BOOTSTRAP_NAMESPACES",
    "AdmissionChain",
    "AdmissionRequest",
    "Change",
    "MemoryPersistence",
    "SqlitePersistence",
    "Store",
    "Watcher",
]
