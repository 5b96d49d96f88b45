"""While an in-process cluster runs, the cyclic collector runs less often; others' settings stand."""

from __future__ import annotations

import gc

import pytest

from sandbox.backends.inprocess.cluster import GC_THRESHOLD, _fewer_collections


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_default_threshold_is_raised_while_the_cluster_runs_and_restored_after(thresholds):
    gc.set_threshold(700, 10, 10)
    with _fewer_collections():
        assert gc.get_threshold() == (GC_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_someone_chose_is_left_alone(thresholds):
    for chosen in ((50_000, 5, 5), (0, 10, 10)):  # higher, or automatic collection disabled
        gc.set_threshold(*chosen)
        with _fewer_collections():
            assert gc.get_threshold() == chosen
        assert gc.get_threshold() == chosen


def test_a_threshold_changed_while_the_cluster_ran_is_kept(thresholds):
    gc.set_threshold(700, 10, 10)
    with _fewer_collections():
        gc.set_threshold(2_000, 10, 10)
    assert gc.get_threshold() == (2_000, 10, 10)
