"""Durable mode: every acknowledged write survives SIGKILL; versions continue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox.clock import FakeClock
from sandbox.store import SqlitePersistence, Store

WRITER = textwrap.dedent(
    """
    import sys
    from sandbox.store import SqlitePersistence, Store

    store = Store(persistence=SqlitePersistence(sys.argv[1]))
    i = 0
    while True:
        store.create("v1", "ConfigMap", {"metadata": {"name": f"cm-{i}", "namespace": "default"},
                                         "data": {"i": str(i)}})
        if i % 3 == 0:
            store.patch("v1", "ConfigMap", f"cm-{i}", {"data": {"patched": "yes"}},
                        namespace="default")
        print(i, store.resource_version, flush=True)
        i += 1
    """
)


@pytest.mark.slow
def test_store_killed_with_sigkill_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE,
                             text=True)
    acked: list[tuple[int, int]] = []
    assert child.stdout is not None
    for line in child.stdout:
        index, rv = line.split()
        acked.append((int(index), int(rv)))
        if len(acked) >= 300:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait()
    assert child.returncode == -signal.SIGKILL

    reopened = Store(persistence=SqlitePersistence(db), clock=FakeClock())
    names = {o["metadata"]["name"]: o for o in reopened.list("v1", "ConfigMap")["items"]}
    for index, _ in acked:
        obj = names[f"cm-{index}"]
        assert obj["data"]["i"] == str(index)
        if index % 3 == 0:
            assert obj["data"]["patched"] == "yes"
    last_acked_rv = acked[-1][1]
    assert reopened.resource_version >= last_acked_rv
    after = reopened.create("v1", "ConfigMap", {"metadata": {"name": "after", "namespace": "default"}})
    assert int(after["metadata"]["resourceVersion"]) > reopened.resource_version - 1 >= last_acked_rv


def test_reopened_store_keeps_objects_crds_and_deletions(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    first = Store(persistence=SqlitePersistence(db), clock=FakeClock())
    first.create("v1", "ConfigMap", {"metadata": {"name": "kept", "namespace": "default"}})
    first.create("v1", "ConfigMap", {"metadata": {"name": "gone", "namespace": "default"}})
    first.delete("v1", "ConfigMap", "gone", namespace="default")
    first.create("apiextensions.k8s.io/v1", "CustomResourceDefinition", {
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {
                                   "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
    })
    first.create("example.com/v1", "Widget", {"metadata": {"name": "w", "namespace": "default"}})
    rv = first.resource_version
    first.close()

    second = Store(persistence=SqlitePersistence(db), clock=FakeClock())
    assert second.resource_version == rv
    assert second.get("v1", "ConfigMap", "kept", namespace="default")
    assert [o["metadata"]["name"] for o in second.list("v1", "ConfigMap")["items"]] == ["kept"]
    assert second.get("example.com/v1", "Widget", "w", namespace="default")["kind"] == "Widget"
