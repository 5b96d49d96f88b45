"""$(VAR) expansion follows Kubernetes' rules, not a shell's."""

from __future__ import annotations

import pytest

from sandbox.cluster.kubelet.expansion import expand

VARS = {"A": "1", "B": "two", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)", "1"),
        ("x-$(A)-$(B)-y", "x-1-two-y"),
        ("$(EMPTY)", ""),
        ("$(UNKNOWN)", "$(UNKNOWN)"),
        ("$$(A)", "$(A)"),
        ("$$$(A)", "$1"),
        ("$$", "$"),
        ("$A", "$A"),
        ("${A}", "${A}"),
        ("$(A", "$(A"),
        ("trailing $", "trailing $"),
        ("no variables", "no variables"),
        ("$()", "$()"),
    ],
)
def test_expansion_rules(text, expected):
    assert expand(text, VARS) == expected


def test_a_value_is_not_expanded_twice():
    assert expand("$(A)", {"A": "$(B)", "B": "x"}) == "$(B)"
