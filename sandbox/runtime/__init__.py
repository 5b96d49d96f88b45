"""Controller runtime in miniature: reconcilers, work queue, informers, manager.

controller-runtime and client-go's machinery, shaped for asyncio and the
sandbox's client protocol (DESIGN.md §1 principle 3, §2). It sits above
``client`` and never imports ``store``, so every controller built on it runs
unchanged against the in-memory cluster or a real one.

Data flow::

    Client.list/watch ─► SharedInformer (cache + indexes) ─► EventHandler ─► WorkQueue
                                 ▲                                               │
              reconciler reads ──┘        Controller workers ◄── get/done ──────┘
                                          │ reconcile(Request) -> Result | raise
                                          └─► Client writes, conditions, Events

:class:`Manager` wires it together: one informer per kind shared by all
controllers, started and synced before any worker runs, stopped gracefully.
"""

from sandbox.runtime.controller import Controller
from sandbox.runtime.events import EventRecorder, record_event
from sandbox.runtime.handlers import (
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
    EventHandler,
)
from sandbox.runtime.informer import INDEX_LABEL, INDEX_NAMESPACE, INDEX_OWNER_UID, SharedInformer
from sandbox.runtime.log import get_logger
from sandbox.runtime.manager import Manager
from sandbox.runtime.reconcile import Reconciler, Request, Result, TerminalError
from sandbox.runtime.registry import ControllerRegistry
from sandbox.runtime.workqueue import ItemExponentialFailureRateLimiter, ShutDown, WorkQueue

__all__ = [
    "INDEX_LABEL",
    "INDEX_NAMESPACE",
    "INDEX_OWNER_UID",
    "Controller",
    "ControllerRegistry",
    "EnqueueRequestForObject",
    "EnqueueRequestForOwner",
    "EnqueueRequestsFromMapFunc",
    "EventHandler",
    "EventRecorder",
    "ItemExponentialFailureRateLimiter",
    "Manager",
    "Reconciler",
    "Request",
    "Result",
    "SharedInformer",
    "ShutDown",
    "TerminalError",
    "WorkQueue",
    "get_logger",
    "record_event",
]
