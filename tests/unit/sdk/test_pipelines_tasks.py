"""A Workflow snapshot read as a run: RunStatus, the task tree, task names and find_task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pipeline_fakes import RunBuilder, demo_run

from sandbox.components.pipelines.workflow.nodes import pod_name
from sandbox.sdk.pipelines import AmbiguousTask, TaskNotFound, find_task, run_status, task_tree

NOW = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)


def test_the_tree_follows_the_nodes_children_from_the_run_node() -> None:
    root = task_tree(demo_run().workflow(), now=NOW)
    assert root.name == "demo-x7k2p" and root.type == "DAG"
    assert [c.display_name for c in root.children] == [
        "make-data", "for-loop-2", "flaky", "add", "importer", "condition-3"]
    loop = root.children[1]
    assert loop.type == "TaskGroup"
    assert [(c.display_name, c.iteration) for c in loop.children] == [("for-loop-2(0)", (0,)),
                                                                      ("for-loop-2(1)", (1,))]
    assert loop.children[1].children[0].outputs.parameters == {"Output": pytest.approx(0.8)}


def test_tasks_in_loop_iterations_are_named_by_their_iteration() -> None:
    root = task_tree(demo_run().workflow(), now=NOW)
    assert [t.label for t in root.tasks()] == [
        "make-data", "train(0)", "train(1)", "flaky", "add", "importer", "condition-3"]


def test_nested_loops_name_every_iteration_index() -> None:
    run = RunBuilder("n")
    outer = run.add("n", "for-loop-2", node_type="TaskGroup")
    for i in (0, 1):
        it = run.add(outer, f"({i})", node_type="DAG", iteration=i)
        inner = run.add(it, "for-loop-4", node_type="TaskGroup")
        for j in (0, 1):
            run.add(run.add(inner, f"({j})", node_type="DAG", iteration=j), "train")
    labels = [t.label for t in task_tree(run.workflow()).tasks()]
    assert labels == ["train(0,0)", "train(0,1)", "train(1,0)", "train(1,1)"]


def test_repeated_display_names_outside_loops_fall_back_to_the_task_name() -> None:
    run = RunBuilder("d")
    run.add("d", "add", display="sum")
    run.add("d", "add-2", display="sum")
    root = task_tree(run.workflow())
    assert [t.label for t in root.tasks()] == ["add", "add-2"]
    with pytest.raises(AmbiguousTask) as raised:
        find_task(root, "sum")
    assert raised.value.choices == ["add", "add-2"]


def test_a_pod_task_knows_its_pod_and_a_cache_hit_or_importer_has_none() -> None:
    root = task_tree(demo_run().workflow(), now=NOW)
    make_data = find_task(root, "make-data")
    assert make_data.pod_name == pod_name("demo-x7k2p", "comp-make-data", "demo-x7k2p.make-data")
    add = find_task(root, "add")
    assert add.cached and add.pod_name is None
    assert find_task(root, "importer").pod_name is None


def test_a_retried_task_lists_its_attempts_oldest_first() -> None:
    flaky = find_task(task_tree(demo_run().workflow(), now=NOW), "flaky")
    assert flaky.type == "Retry" and flaky.is_task
    assert [(a.attempt, a.phase) for a in flaky.attempts] == [(0, "Failed"), (1, "Succeeded")]
    assert not flaky.attempts[0].is_task
    assert flaky.attempts[0].pod_name == pod_name("demo-x7k2p", "comp-flaky", "demo-x7k2p.flaky(0)")


def test_durations_use_now_for_what_still_runs() -> None:
    run = RunBuilder("r")
    run.add("r", "slow", phase="Running", finished=None)
    run.add("r", "quick", finished="2026-01-01T00:00:04Z")
    root = task_tree(run.workflow(), now=NOW)
    assert find_task(root, "slow").duration == timedelta(seconds=10)
    assert find_task(root, "quick").duration == timedelta(seconds=4)


def test_find_task_takes_a_label_a_display_name_or_a_task_name() -> None:
    root = task_tree(demo_run().workflow(), now=NOW)
    assert find_task(root, "train(1)").iteration == (1,)
    assert find_task(root, "make-data").display_name == "make-data"


def test_an_ambiguous_name_lists_the_tasks_to_choose_from() -> None:
    root = task_tree(demo_run().workflow(), now=NOW)
    with pytest.raises(AmbiguousTask) as raised:
        find_task(root, "train")
    assert raised.value.choices == ["train(0)", "train(1)"]
    assert "train(0), train(1)" in raised.value.message and raised.value.code == 400


def test_an_unknown_name_lists_every_task() -> None:
    root = task_tree(demo_run().workflow(), now=NOW)
    with pytest.raises(TaskNotFound) as raised:
        find_task(root, "trian")
    assert raised.value.code == 404
    assert raised.value.choices == ["add", "condition-3", "flaky", "importer", "make-data",
                                    "train(0)", "train(1)"]


def test_run_status_reads_phase_progress_times_and_arguments() -> None:
    workflow = demo_run().workflow(phase="Succeeded", finished="2026-01-01T00:00:07Z", progress="5/5")
    status = run_status(workflow, now=NOW)
    assert (status.name, status.run_name, status.run_id, status.pipeline) == (
        "demo-x7k2p", "demo", "run-1", "demo")
    assert status.phase == "Succeeded" and status.state == "SUCCEEDED" and status.succeeded
    assert status.duration == timedelta(seconds=7) and status.progress == "5/5"
    assert status.arguments == {"rows": 5}


def test_a_terminated_run_is_canceled_and_a_new_one_pending() -> None:
    stopped = run_status(demo_run().workflow(phase="Failed", message="Stopped with strategy 'Terminate'",
                                             finished="2026-01-01T00:00:01Z"))
    assert stopped.state == "CANCELED" and stopped.done
    fresh = demo_run().workflow()
    del fresh["status"]
    status = run_status(fresh, now=NOW)
    assert status.phase == "Pending" and status.state == "PENDING" and status.duration is None
    assert task_tree(fresh).children == ()


def test_a_task_in_a_one_item_loop_keeps_its_iteration_name_and_answers_to_its_own() -> None:
    run = RunBuilder("one")
    loop = run.add("one", "for-loop-2", node_type="TaskGroup")
    run.add(run.add(loop, "(0)", node_type="DAG", iteration=0), "train")
    root = task_tree(run.workflow())
    assert [t.label for t in root.tasks()] == ["train(0)"]
    assert find_task(root, "train").label == "train(0)"
