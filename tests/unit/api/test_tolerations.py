"""Toleration matching follows Kubernetes' ToleratesTaint."""

from __future__ import annotations

from sandbox.api.tolerations import find_untolerated_taint, tolerates

GPU = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


def test_equal_compares_values_and_exists_ignores_them() -> None:
    assert tolerates({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}, GPU)
    assert not tolerates({"key": "nvidia.com/gpu", "value": "absent"}, GPU)
    assert tolerates({"key": "nvidia.com/gpu", "operator": "Exists"}, GPU)
    assert tolerates({"operator": "Exists"}, GPU)  # empty key and effect match everything
    assert not tolerates({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, GPU)
    assert not tolerates({"key": "x", "operator": "Sometimes"}, {"key": "x"})


def test_find_untolerated_taint_with_effect_filter() -> None:
    soft = {"key": "a", "effect": "PreferNoSchedule"}
    assert find_untolerated_taint([soft, GPU], []) == soft
    assert find_untolerated_taint([soft, GPU], [], effects={"NoSchedule", "NoExecute"}) == GPU
    assert find_untolerated_taint([GPU], [{"operator": "Exists"}]) is None
