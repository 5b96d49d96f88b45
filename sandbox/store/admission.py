"""The admission chain: defaulting, validation, and hooks for components.

Every create and update passes through :meth:`AdmissionChain.admit` in
Kubernetes' order:

1. defaulting — built-in kinds' Go defaults, then OpenAPI ``default`` values
   and, for custom resources, pruning of unknown fields;
2. mutating admission hooks registered by components (e.g. Katib defaults an
   Experiment's algorithm settings, a PodDefault injects env into pods);
3. validation — metadata rules, the kind's OpenAPI schema, the Go
   validation rules of built-in kinds and, on update, what may not change
   (:mod:`sandbox.api.immutability`);
4. validating admission hooks.

Any field errors become one 422 ``Invalid`` naming every field path; a hook
may also raise any :class:`~sandbox.api.errors.ApiError` (e.g. ``Forbidden``).
Nothing is stored unless the whole chain passes.

Hooks are keyed by (group, kind) — ``"*"`` matches all — and receive an
:class:`AdmissionRequest`; mutating hooks change ``request.object`` in place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.api import schema as schemas
from sandbox.api import validation
from sandbox.api.errors import FieldError, Invalid
from sandbox.api.immutability import validate_update
from sandbox.api.kinds import ResourceType

__all__ = ["AdmissionChain", "AdmissionRequest", "MutatingHook", "ValidatingHook"]

Operation = Literal["CREATE", "UPDATE", "DELETE"]


@dataclass
class AdmissionRequest:
    operation: Operation
    type: ResourceType
    object: dict[str, Any]
    old_object: Mapping[str, Any] | None = None
    subresource: str | None = None
    dry_run: bool = False
    user: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.type.kind


MutatingHook = Callable[[AdmissionRequest], None]
ValidatingHook = Callable[[AdmissionRequest], "list[FieldError] | None"]


class AdmissionChain:
    def __init__(self) -> None:
        self._mutating: list[tuple[str, str, str, MutatingHook]] = []
        self._validating: list[tuple[str, str, str, ValidatingHook]] = []

    def has_mutating_hooks(self, rt: ResourceType) -> bool:
        """Whether a mutating hook applies to ``rt``'s objects."""
        return any(self._applies(group, kind, rt) for group, kind, _name, _hook in self._mutating)

    def add_mutating(self, group: str, kind: str, hook: MutatingHook, *, name: str = "") -> None:
        """A hook that may change the objects of (group, kind) written through the main resource.

        Like a webhook whose rules name only the resource (``pods``, not
        ``pods/status``), it is not called for subresource writes.
        """
        self._mutating.append((group, kind, name or getattr(hook, "__name__", "hook"), hook))

    def add_validating(
        self, group: str, kind: str, hook: ValidatingHook, *, name: str = ""
    ) -> None:
        self._validating.append((group, kind, name or getattr(hook, "__name__", "hook"), hook))

    def remove(self, name: str) -> None:
        self._mutating = [h for h in self._mutating if h[2] != name]
        self._validating = [h for h in self._validating if h[2] != name]

    @staticmethod
    def _applies(group: str, kind: str, rt: ResourceType) -> bool:
        return (group == "*" or group == rt.group) and (kind == "*" or kind == rt.kind)

    def schema_for(self, rt: ResourceType) -> Mapping[str, Any] | None:
        if rt.schema is not None:
            return rt.schema
        if rt.builtin:
            return schemas.builtin_schema(rt.group, rt.version, rt.kind)
        return None

    def admit(self, request: AdmissionRequest) -> dict[str, Any]:
        """Run the chain; returns the admitted object or raises ``Invalid``."""
        rt = request.type
        obj = request.object
        status_only = request.subresource == "status"
        schema = self.schema_for(rt)

        # 1. Defaulting (a status write defaults and validates only what it owns).
        if not status_only:
            if rt.builtin:
                validation.default_builtin(obj, create=request.operation == "CREATE")
            if schema is not None:
                if not rt.builtin:
                    schemas.prune(obj, schema)
                schemas.apply_defaults(obj, schema)

        # 2. Mutating hooks (main resource writes only).
        for group, kind, _name, hook in self._mutating:
            if request.subresource is None and self._applies(group, kind, rt):
                hook(request)

        # 3. Validation.
        errors: list[FieldError] = []
        errors += validation.validate_metadata(
            obj, namespaced=rt.namespaced, name_rule=validation.name_rule_for(rt.group, rt.kind)
        )
        if schema is not None:
            # Built-in kinds check list uniqueness in their Go rules (with
            # better paths); the schema's list-type check is for CRDs.
            errors += schemas.validate(obj, schema, list_types=not rt.builtin)
        if rt.builtin and not status_only:
            errors += validation.validate_builtin(obj)
            if request.operation == "UPDATE" and request.old_object is not None:
                errors += validate_update(request.old_object, obj)
        errors = validation.dedupe(errors)

        # 4. Validating hooks.
        if not errors:
            for group, kind, _name, hook in self._validating:
                if self._applies(group, kind, rt):
                    errors += hook(request) or []

        if errors:
            name = (obj.get("metadata") or {}).get("name") or ""
            raise Invalid.of(rt.kind, name, errors, plural=rt.plural, group=rt.group)
        return obj
