"""The workflow controller wakes a Workflow only for changes its engine reads."""

from __future__ import annotations

from types import SimpleNamespace

from sandbox.components.pipelines.workflow.controller import WORKFLOW, _OwnWrites, _TaskPodChanges


class Queue:
    def __init__(self) -> None:
        self.added: list = []

    def add(self, request) -> None:
        self.added.append(request)


def pod(name: str = "wf-t-1", deleting: bool = False, **status) -> dict:
    meta = {"name": name, "namespace": "default",
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                 "name": "wf", "controller": True}]}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-29T00:00:00Z"
    return {"metadata": meta, "status": status}


def state() -> SimpleNamespace:
    """The two pieces of the reconciler's state the handlers read."""
    return SimpleNamespace(written={}, expected_pods=set())


def test_phase_a_waiting_reason_unschedulable_and_deletion_wake_the_workflow_other_status_writes_do_not():
    handler, queue = _TaskPodChanges(state()), Queue()
    pending = pod(phase="Pending")
    quiet = [pod(phase="Pending", podIP="127.16.1.2"),
             pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "True"}]),
             pod(phase="Pending", containerStatuses=[{"state": {"waiting": {"reason": "ContainerCreating"}}}])]
    for update in quiet:
        handler.on_update(pending, update, queue=queue)
    assert queue.added == []
    loud = [pod(phase="Running"),
            pod(phase="Pending", containerStatuses=[{"state": {"waiting": {"reason": "ImagePullBackOff"}}}]),
            pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "message": "no node"}]),
            pod(phase="Pending", deleting=True)]
    for update in loud:
        handler.on_update(pending, update, queue=queue)
    assert len(queue.added) == 2 * len(loud)  # old and new owner: the same Workflow
    assert {r.name for r in queue.added} == {"wf"}


def test_the_added_event_of_a_pod_the_controller_created_is_expected_once():
    reconciler = state()
    reconciler.expected_pods.add(("default", "wf-t-1"))
    handler, queue = _TaskPodChanges(reconciler), Queue()
    handler.on_add(pod(phase="Pending"), queue=queue)
    assert queue.added == [] and reconciler.expected_pods == set()
    handler.on_add(pod(phase="Pending"), queue=queue)  # seen again (a relist): no longer expected
    handler.on_add(pod("wf-t-2", phase="Pending"), queue=queue)  # never expected
    assert [r.name for r in queue.added] == ["wf", "wf"]


def test_an_expected_pod_that_already_changed_still_wakes_its_workflow():
    reconciler = state()
    reconciler.expected_pods.add(("default", "wf-t-1"))
    handler, queue = _TaskPodChanges(reconciler), Queue()
    handler.on_add(pod(phase="Failed"), queue=queue)
    assert [r.name for r in queue.added] == ["wf"]


def test_the_workflows_own_status_writes_do_not_wake_it_other_writes_do():
    reconciler = state()
    handler, queue = _OwnWrites(reconciler), Queue()
    workflow = {"apiVersion": WORKFLOW[0], "kind": WORKFLOW[1],
                "metadata": {"name": "wf", "namespace": "default", "resourceVersion": "7"}}
    reconciler.written[("default", "wf")] = "7"
    handler.on_update(workflow, workflow, queue=queue)
    assert queue.added == []
    by_someone_else = {**workflow, "metadata": {**workflow["metadata"], "resourceVersion": "8"}}
    handler.on_update(workflow, by_someone_else, queue=queue)
    handler.on_add(workflow, queue=queue)  # a relist always wakes it
    assert [r.name for r in queue.added] == ["wf", "wf"]
