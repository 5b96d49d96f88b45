"""The workflow controller wakes a Workflow only for pod changes its engine reads."""

from __future__ import annotations

from sandbox.components.pipelines.workflow.controller import WORKFLOW, _TaskPodChanges


class Queue:
    def __init__(self) -> None:
        self.added: list = []

    def add(self, request) -> None:
        self.added.append(request)


def pod(**status) -> dict:
    return {"metadata": {"name": "wf-t-1", "namespace": "default",
                         "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                              "name": "wf", "controller": True}]},
            "status": status}


def test_phase_waiting_reason_and_scheduling_wake_the_workflow_other_status_writes_do_not():
    handler, queue = _TaskPodChanges(*WORKFLOW), Queue()
    pending = pod(phase="Pending")
    handler.on_update(pending, pod(phase="Pending", podIP="127.16.1.2"), queue=queue)
    assert queue.added == []
    handler.on_update(pending, pod(phase="Running"), queue=queue)
    waiting = pod(phase="Pending", containerStatuses=[{"state": {"waiting": {"reason": "ImagePullBackOff"}}}])
    handler.on_update(pending, waiting, queue=queue)
    unschedulable = pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False"}])
    handler.on_update(pending, unschedulable, queue=queue)
    assert len(queue.added) == 6  # each relevant update enqueues (old and new owner: the same Workflow)
    assert {r.name for r in queue.added} == {"wf"}
