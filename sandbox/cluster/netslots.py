"""Network slots: clusters running side by side on one machine get different loopback ranges.

Pod IPs and Service cluster IPs are real loopback addresses (see
:mod:`sandbox.cluster.network`), and the loopback interface is shared by
every process on the machine. Two clusters handing out the same addresses —
a ``sandbox up`` daemon and a test run, or two CI jobs — would put their
pods' servers on the same ``address:port`` and one would crash with
"Address already in use". So each running cluster holds a *slot*::

    slot k   pods     127.(16+4k).0.0/14   (1,024 node /24s)
             services 127.(96+k).0.0/16
    k = 0 … 19   (pods 127.16 to 127.95, services 127.96 to 127.115: never overlapping)

Slot 0 is exactly the default ``networking`` of a cluster file, so a lone
cluster looks the same as always. A slot is held by an ``flock`` on
``<lock dir>/slot-<k>.lock`` for the life of the cluster; a crashed cluster
drops it with its last file descriptor. A cluster whose file sets
``networking.podCIDR`` or ``serviceCIDR`` keeps what it says (the user chose).

A durable cluster (the daemon) records its slot in its home and asks for it
again on restart, because its Nodes' ``podCIDR``, its pods' IPs and its
Services' cluster IPs are stored; if another cluster holds it meanwhile, the
daemon takes a free slot and says so in its log (the stored Services keep
their old cluster IPs until recreated).

The lock directory is ``$SANDBOX_NETSLOT_DIR``, else ``<tmp>/kf-sandbox-netslots``,
shared by all users (the addresses are shared too).
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SLOTS", "NetworkSlot", "NoFreeSlot", "acquire_slot", "slot_networks"]

log = logging.getLogger(__name__)

#: How many clusters can run side by side with distinct addresses.
SLOTS = 20
DEFAULT_POD_CIDR = "127.16.0.0/12"
DEFAULT_SERVICE_CIDR = "127.96.0.0/16"


class NoFreeSlot(RuntimeError):
    """Every slot is held by a running cluster."""


def slot_networks(slot: int) -> tuple[str, str]:
    """(pod CIDR, service CIDR) of a slot; slot 0 is the cluster file defaults."""
    if not 0 <= slot < SLOTS:
        raise ValueError(f"network slot {slot} is outside 0…{SLOTS - 1}")
    if slot == 0:
        return DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR
    pods = ipaddress.ip_network(f"127.{16 + 4 * slot}.0.0/14")
    services = ipaddress.ip_network(f"127.{96 + slot}.0.0/16")
    return str(pods), str(services)


def _lock_dir() -> Path:
    path = Path(os.environ.get("SANDBOX_NETSLOT_DIR") or Path(tempfile.gettempdir()) / "kf-sandbox-netslots")
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # another user made it: theirs to chmod
        path.chmod(0o1777)
    return path


@dataclass
class NetworkSlot:
    """A held slot; :meth:`release` (or process exit) frees it."""

    number: int
    fd: int | None

    @property
    def networks(self) -> tuple[str, str]:
        return slot_networks(self.number)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _try(number: int, directory: Path) -> NetworkSlot | None:
    path = directory / f"slot-{number}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return NetworkSlot(number, fd)


def acquire_slot(*, preferred: int | None = None) -> NetworkSlot:
    """The preferred slot if free, else the lowest free one; :class:`NoFreeSlot` when none is."""
    directory = _lock_dir()
    order = list(range(SLOTS))
    if preferred is not None and 0 <= preferred < SLOTS:
        order.remove(preferred)
        order.insert(0, preferred)
    for number in order:
        slot = _try(number, directory)
        if slot is not None:
            if preferred is not None and number != preferred:
                log.warning("network slot %d is held by another cluster; using slot %d "
                            "(pod and Service addresses change)", preferred, number)
            return slot
    raise NoFreeSlot(f"all {SLOTS} network slots are in use by running clusters "
                     f"(locks in {directory}); stop one")
