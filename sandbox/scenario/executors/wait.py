"""``wait``: until objects reach a condition, a phase, a JSONPath value or a count.

Data flow::

    kind ─Kinds─▶ ResourceType;  name | selector ─▶ list (field/label selector)
      ─▶ objects by name ─▶ satisfied? ──yes──▶ "deployment.apps/web condition met"
            ▲                   │ no: ctx.progress(current state)
            └── watch from the list's resourceVersion (410 Gone → list again)
    timeout (the context's clock) ─▶ StepFailed(what was awaited,
                                                details = diagnose(objects): conditions, events, pod logs)

Satisfied means (see :class:`~sandbox.scenario.steps.Wait`): with ``count``,
exactly that many objects pass the predicate (or exist, with no predicate);
without, at least one object exists and every one passes — ``kubectl wait
-l`` with the empty set made an explicit "not yet".

Watching rather than polling answers the moment the state changes and costs
the API server one stream; the current state goes to ``ctx.progress`` at
each change, which the terminal shows beside its spinner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import Gone
from sandbox.api.kinds import ResourceType, UnknownKind
from sandbox.scenario.context import StepContext
from sandbox.scenario.diagnostics import diagnose
from sandbox.scenario.predicates import Predicate, condition_state, found_text, object_predicate
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import Wait

__all__ = ["execute", "resolve_kind"]


async def resolve_kind(name: str, ctx: StepContext) -> ResourceType:
    """A kind name as kubectl reads it; an unknown one fails the step, naming it."""
    try:
        return await ctx.kinds.resolve(name)
    except UnknownKind as err:
        raise StepFailed(str(err)) from None


def describe_target(spec: Wait, rt: ResourceType) -> str:
    if spec.name is not None:
        return f"{rt.kind.lower()}/{spec.name}"
    return f"{rt.plural}" + (f" -l {spec.selector}" if spec.selector else "")


def describe_goal(spec: Wait) -> str:
    if spec.condition is not None:
        reason = f" (reason {spec.reason})" if spec.reason else ""
        goal = f"condition {spec.condition}={spec.status}{reason}"
    elif spec.phase is not None:
        goal = f"phase {spec.phase}"
    elif spec.jsonpath is not None:
        goal = f"{spec.jsonpath}={spec.value}"
    else:
        goal = ""
    if spec.count is not None:
        return f"{spec.count} with {goal}" if goal else f"count {spec.count}"
    return goal


async def execute(spec: Wait, ctx: StepContext) -> None:
    rt = await resolve_kind(spec.kind, ctx)
    namespace = (spec.namespace or ctx.namespace) if rt.namespaced else None
    predicate = object_predicate(condition=spec.condition, status=spec.status, reason=spec.reason,
                                 phase=spec.phase, jsonpath=spec.jsonpath, value=spec.value)
    objects: dict[str, dict[str, Any]] = {}
    target, goal = describe_target(spec, rt), describe_goal(spec)
    ctx.progress(f"waiting for {target}: {goal}")
    waiter = asyncio.ensure_future(_watch_until(spec, rt, namespace, predicate, objects, ctx))
    timer = asyncio.ensure_future(ctx.clock.sleep(spec.timeout))
    try:
        done, _ = await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        if not waiter.done():
            waiter.cancel()
    if waiter in done:
        waiter.result()  # an API error while watching fails the step with it
        ctx.note(f"{target} {'condition met' if spec.count is None else 'count met'}")
        return
    with_state = _state(spec, list(objects.values()), predicate)
    where = f" in namespace {namespace}" if namespace else ""
    missing = (f"{rt.kind} {spec.name!r} does not exist{where}" if spec.name else
               f"no {rt.plural}{' match ' + spec.selector if spec.selector else ''}{where}")
    details = await diagnose(ctx.client, rt, sorted(objects.values(), key=_name),
                             namespace=namespace, missing=missing)
    raise StepFailed(f"timed out after {spec.timeout:g}s waiting for {target}: {goal} "
                     f"(last state: {with_state})", details=details)


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _satisfied(spec: Wait, objects: list[dict[str, Any]], predicate: Predicate | None) -> bool:
    passing = [o for o in objects if predicate is None or predicate(o)]
    if spec.count is not None:
        return len(passing) == spec.count
    return bool(objects) and len(passing) == len(objects)


def _state(spec: Wait, objects: list[dict[str, Any]], predicate: Predicate | None) -> str:
    """The current state in a few words, for the spinner and the timeout message."""
    if spec.name is not None:
        if not objects:
            return "not found"
        return _one_state(spec, objects[0])
    passing = sum(1 for o in objects if predicate is None or predicate(o))
    if predicate is None:
        return f"{len(objects)} exist"
    return f"{passing} of {len(objects)} match"


def _one_state(spec: Wait, obj: Mapping[str, Any]) -> str:
    if spec.condition is not None:
        return condition_state(obj, spec.condition)
    if spec.jsonpath is not None:
        found = found_text(spec.jsonpath, obj)
        return f"{spec.jsonpath}={found if found is not None else '<none>'}"
    return f"phase {(obj.get('status') or {}).get('phase') or '<none>'}"


async def _watch_until(spec: Wait, rt: ResourceType, namespace: str | None,
                       predicate: Predicate | None, objects: dict[str, dict[str, Any]],
                       ctx: StepContext) -> None:
    client = ctx.client
    field_selector = f"metadata.name={spec.name}" if spec.name else None
    said = ""

    def check() -> bool:
        nonlocal said
        current = list(objects.values())
        state = _state(spec, current, predicate)
        if state != said:
            ctx.progress(f"waiting for {describe_target(spec, rt)}: {describe_goal(spec)} — now {state}")
            said = state
        return _satisfied(spec, current, predicate)

    while True:
        listed = await client.list(rt.api_version, rt.kind, namespace=namespace,
                                   label_selector=spec.selector, field_selector=field_selector)
        objects.clear()
        objects.update({_name(o): o for o in listed["items"]})
        if check():
            return
        try:
            async for event in client.watch(rt.api_version, rt.kind, namespace=namespace,
                                            resource_version=listed["metadata"]["resourceVersion"],
                                            label_selector=spec.selector,
                                            field_selector=field_selector):
                if event.type in ("BOOKMARK", "ERROR"):
                    continue
                if event.type == "DELETED":
                    objects.pop(_name(event.object), None)
                else:
                    objects[_name(event.object)] = event.object
                if check():
                    return
        except Gone:
            continue  # history compacted: list again
