"""The controller registry: stable names → factories, no import side effects.

Components do not start their controllers themselves, and importing a
component must not register anything (STYLE.md rule 5). Instead a component
exposes a function that registers its factories in a
:class:`ControllerRegistry` it is handed; a backend assembles one registry
from the components it runs and gives it to its
:class:`~sandbox.runtime.manager.Manager`, which builds every controller at
start. Tests build their own registry, or copy the real one and
:meth:`~ControllerRegistry.replace` or :meth:`~ControllerRegistry.unregister`
entries, so they run exactly the controllers they mean to.

A factory takes the manager (for its client, clock, informers and event
recorders) and returns a :class:`~sandbox.runtime.controller.Controller`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from sandbox.runtime.controller import Controller
    from sandbox.runtime.manager import Manager

__all__ = ["ControllerFactory", "ControllerRegistry"]

ControllerFactory = Callable[["Manager"], "Controller"]


class ControllerRegistry:
    """Named controller factories, in registration order."""

    def __init__(self) -> None:
        self._factories: dict[str, ControllerFactory] = {}

    @overload
    def register(self, name: str) -> Callable[[ControllerFactory], ControllerFactory]: ...

    @overload
    def register(self, name: str, factory: ControllerFactory) -> ControllerFactory: ...

    def register(
        self, name: str, factory: ControllerFactory | None = None
    ) -> ControllerFactory | Callable[[ControllerFactory], ControllerFactory]:
        """Register ``factory`` under ``name`` (also usable as a decorator).

        A name is registered once; use :meth:`replace` to swap a factory.
        """

        def add(factory: ControllerFactory) -> ControllerFactory:
            if name in self._factories:
                raise ValueError(f"controller {name!r} is already registered")
            self._factories[name] = factory
            return factory

        return add if factory is None else add(factory)

    def replace(self, name: str, factory: ControllerFactory) -> None:
        """Swap the factory of a registered name (tests use this)."""
        if name not in self._factories:
            raise KeyError(f"no controller {name!r} is registered")
        self._factories[name] = factory

    def unregister(self, name: str) -> None:
        del self._factories[name]

    def get(self, name: str) -> ControllerFactory:
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(self._factories) or "none"
            raise KeyError(f"no controller {name!r} is registered (known: {known})") from None

    def names(self) -> list[str]:
        return list(self._factories)

    def build(self, name: str, manager: Manager) -> Controller:
        """Build the controller registered as ``name`` for ``manager``."""
        return self.get(name)(manager)

    def copy(self) -> ControllerRegistry:
        other = ControllerRegistry()
        other._factories = dict(self._factories)
        return other

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._factories))

    def __len__(self) -> int:
        return len(self._factories)
