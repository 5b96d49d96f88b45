"""Crash-loop and image-pull back-off, and Go-style durations in messages."""

from __future__ import annotations

import pytest

from sandbox.cluster.kubelet.backoff import Backoff, go_duration


def test_crash_loop_restarts_at_once_first_then_doubles_up_to_the_maximum():
    backoff = Backoff(10, 40)
    delays = [backoff.next_restart(ran_for=1) for _ in range(6)]
    assert delays == [0, 10, 20, 40, 40, 40]


def test_a_long_run_resets_the_crash_loop():
    backoff = Backoff(10, 300)
    for _ in range(4):
        backoff.next_restart(ran_for=1)
    assert backoff.next_restart(ran_for=600, reset_after=600) == 0
    assert backoff.next_restart(ran_for=1, reset_after=600) == 10


def test_pull_back_off_waits_the_base_delay_first():
    backoff = Backoff(1, 5)
    assert [backoff.next() for _ in range(5)] == [1, 2, 4, 5, 5]
    backoff.reset()
    assert backoff.next() == 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(10, "10s"), (80, "1m20s"), (300, "5m0s"), (3600, "1h0m0s"), (0.5, "500ms"),
     (1.5, "1.5s"), (0, "0s")],
)
def test_durations_print_like_go(seconds, text):
    assert go_duration(seconds) == text
