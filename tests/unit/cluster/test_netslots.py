"""Network slots: clusters side by side get different loopback ranges; a slot is held by a lock."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest

from sandbox.cluster.netslots import SLOTS, NoFreeSlot, acquire_slot, slot_networks


@pytest.fixture(autouse=True)
def private_locks(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_NETSLOT_DIR", str(tmp_path / "locks"))


def test_slot_zero_is_the_cluster_file_default_and_no_two_slots_overlap():
    assert slot_networks(0) == ("127.16.0.0/12", "127.96.0.0/16")
    networks = [ipaddress.ip_network(n) for k in range(SLOTS) for n in slot_networks(k)]
    networks[0] = ipaddress.ip_network("127.16.0.0/14")  # the /24s slot 0's nodes actually use
    for i, a in enumerate(networks):
        for b in networks[i + 1:]:
            assert not a.overlaps(b), (a, b)
    with pytest.raises(ValueError):
        slot_networks(SLOTS)


def test_held_slots_are_skipped_and_released_ones_reused():
    first = acquire_slot()
    second = acquire_slot()
    assert (first.number, second.number) == (0, 1)
    first.release()
    assert acquire_slot().number == 0


def test_a_preferred_slot_is_taken_when_free_else_another():
    held = acquire_slot(preferred=5)
    assert held.number == 5
    assert acquire_slot(preferred=5).number == 0


def test_another_process_sees_the_slot_as_held(tmp_path):
    slot = acquire_slot()
    probe = ("from sandbox.cluster.netslots import acquire_slot; print(acquire_slot().number)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={"SANDBOX_NETSLOT_DIR": str(tmp_path / "locks"), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "1"
    slot.release()


def test_no_free_slot_says_so():
    held = [acquire_slot() for _ in range(SLOTS)]
    with pytest.raises(NoFreeSlot, match=f"all {SLOTS} network slots are in use"):
        acquire_slot()
    for slot in held:
        slot.release()
