"""The controller registry: names to factories, replaceable in tests."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.runtime.registry import ControllerRegistry


def factory(manager: Any) -> Any:
    return ("built", manager)


def other(manager: Any) -> Any:
    return ("other", manager)


def test_registered_factories_are_listed_in_registration_order_and_built_by_name() -> None:
    registry = ControllerRegistry()
    registry.register("b", factory)

    @registry.register("a")
    def decorated(manager: Any) -> Any:
        return ("decorated", manager)

    assert registry.names() == ["b", "a"]
    assert list(registry) == ["b", "a"]
    assert "a" in registry and "c" not in registry
    assert len(registry) == 2
    assert registry.build("a", "mgr") == ("decorated", "mgr")


def test_a_name_is_registered_once_and_replaced_explicitly() -> None:
    registry = ControllerRegistry()
    registry.register("x", factory)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("x", other)
    registry.replace("x", other)
    assert registry.build("x", None) == ("other", None)
    with pytest.raises(KeyError):
        registry.replace("missing", other)


def test_unknown_names_say_which_are_known() -> None:
    registry = ControllerRegistry()
    registry.register("deployment", factory)
    with pytest.raises(KeyError, match="known: deployment"):
        registry.get("job")


def test_a_copy_can_be_changed_without_touching_the_original() -> None:
    registry = ControllerRegistry()
    registry.register("x", factory)
    copy = registry.copy()
    copy.replace("x", other)
    copy.unregister("x")
    assert registry.get("x") is factory
    assert copy.names() == []
