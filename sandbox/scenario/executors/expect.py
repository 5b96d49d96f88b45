"""``expect``: assertions checked once, each failure explained.

Every assertion the step gives is checked (not only up to the first that
fails), and the step fails with all that did not hold. The failure's details
carry the diagnosis of the object concerned — its conditions, recent events,
its pods and their last log lines — so the JUnit failure text shows *why*
the value was not the one expected.

- ``object``: the JSONPath of one object ``equals`` a value (compared as
  text, see :mod:`sandbox.scenario.predicates`), ``matches`` a regex, or
  ``exists`` (true/false);
- ``count``: how many objects of a kind (matching a selector) exist;
- ``events``: an Event about an object with this reason, type and message regex;
- ``logs``: a pod's log (or any of the pods a selector picks) matches a regex;
  ``previous: true`` reads the crashed run, like ``kubectl logs --previous``.

``expect`` does not wait: use a ``wait`` step first when the state takes time.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.api.errors import ApiError, NotFound
from sandbox.scenario.context import StepContext
from sandbox.scenario.diagnostics import diagnose, recent_events
from sandbox.scenario.executors.wait import resolve_kind
from sandbox.scenario.predicates import as_text, found_text
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import (
    CountExpectation,
    EventsExpectation,
    Expect,
    LogsExpectation,
    ObjectExpectation,
)

__all__ = ["execute"]


async def execute(spec: Expect, ctx: StepContext) -> None:
    failures: list[tuple[str, str]] = []
    checks = ((spec.object, _object), (spec.count, _count), (spec.events, _events), (spec.logs, _logs))
    for expectation, check in checks:
        if expectation is None:
            continue
        try:
            await check(expectation, ctx)  # type: ignore[operator]
        except StepFailed as failed:
            failures.append((failed.message, failed.details))
    if failures:
        raise StepFailed("; ".join(m for m, _ in failures),
                         details="\n".join(d for _, d in failures if d))


async def _get(kind: str, name: str, namespace: str | None, ctx: StepContext) -> tuple[Any, Any, str | None]:
    rt = await resolve_kind(kind, ctx)
    ns = (namespace or ctx.namespace) if rt.namespaced else None
    try:
        obj = await ctx.client.get(rt.api_version, rt.kind, name, namespace=ns)
    except NotFound:
        obj = None
    return rt, obj, ns


async def _object(spec: ObjectExpectation, ctx: StepContext) -> None:
    rt, obj, ns = await _get(spec.kind, spec.name, spec.namespace, ctx)
    shown = f"{rt.kind.lower()}/{spec.name}"
    if obj is None:
        where = f" in namespace {ns}" if ns else ""
        raise StepFailed(f"{shown} does not exist{where}")
    found = found_text(spec.jsonpath, obj)
    if spec.exists is not None:
        ok = (found is not None) == spec.exists
        wanted = "to exist" if spec.exists else "not to exist"
        said = f"{shown} {spec.jsonpath}: expected {wanted}, found {found!r}"
    elif spec.matches is not None:
        ok = found is not None and re.search(spec.matches, found) is not None
        said = f"{shown} {spec.jsonpath}: expected to match /{spec.matches}/, found {found!r}"
    else:
        ok = found == as_text(spec.equals)
        said = f"{shown} {spec.jsonpath}: expected {as_text(spec.equals)!r}, found {found!r}"
    if not ok:
        raise StepFailed(said, details=await diagnose(ctx.client, rt, [obj], namespace=ns))
    ctx.note(f"{shown} {spec.jsonpath} = {found}")


async def _count(spec: CountExpectation, ctx: StepContext) -> None:
    rt = await resolve_kind(spec.kind, ctx)
    ns = (spec.namespace or ctx.namespace) if rt.namespaced else None
    items = (await ctx.client.list(rt.api_version, rt.kind, namespace=ns,
                                   label_selector=spec.selector))["items"]
    which = f"{rt.plural}" + (f" matching {spec.selector}" if spec.selector else "")
    if len(items) != spec.equals:
        names = ", ".join((o.get("metadata") or {}).get("name", "") for o in items) or "none"
        raise StepFailed(f"expected {spec.equals} {which}, found {len(items)} ({names})",
                         details=await diagnose(ctx.client, rt, items, namespace=ns))
    ctx.note(f"{len(items)} {which}")


async def _events(spec: EventsExpectation, ctx: StepContext) -> None:
    rt, obj, ns = await _get(spec.kind, spec.name, spec.namespace, ctx)
    about = obj or {"metadata": {"name": spec.name, "namespace": ns}}
    events = await _all_events(rt.kind, about, ctx)
    wanted = [f"reason {spec.reason}" if spec.reason else "",
              f"type {spec.type}" if spec.type else "",
              f"message /{spec.message}/" if spec.message else ""]
    for ev in events:
        if ((spec.reason is None or ev.get("reason") == spec.reason)
                and (spec.type is None or ev.get("type", "Normal") == spec.type)
                and (spec.message is None or re.search(spec.message, ev.get("message") or ""))):
            ctx.note(f"event on {rt.kind.lower()}/{spec.name}: {ev.get('type')} {ev.get('reason')}: "
                     f"{ev.get('message')}")
            return
    shown = ", ".join(w for w in wanted if w) or "any"
    details = await diagnose(ctx.client, rt, [obj] if obj else [], namespace=ns,
                             missing=f"{rt.kind} {spec.name!r} does not exist")
    raise StepFailed(f"no event on {rt.kind.lower()}/{spec.name} with {shown} "
                     f"(found {len(events)} events)", details=details)


async def _all_events(kind: str, obj: dict[str, Any], ctx: StepContext) -> list[dict[str, Any]]:
    # Not only the last few: an expectation may be about an early event.
    meta = obj["metadata"]
    selector = f"involvedObject.kind={kind},involvedObject.name={meta['name']}"
    try:
        return (await ctx.client.list("v1", "Event", namespace=meta.get("namespace"),
                                      field_selector=selector))["items"]
    except ApiError:
        return await recent_events(ctx.client, kind, obj)


async def _logs(spec: LogsExpectation, ctx: StepContext) -> None:
    ns = spec.namespace or ctx.namespace
    if spec.pod is not None:
        pods = [spec.pod]
    else:
        items = (await ctx.client.list("v1", "Pod", namespace=ns, label_selector=spec.selector))["items"]
        pods = sorted(p["metadata"]["name"] for p in items)
        if not pods:
            raise StepFailed(f"no pods match {spec.selector} in namespace {ns}")
    pattern = re.compile(spec.matches, re.MULTILINE)
    read: list[str] = []
    for pod in pods:
        try:
            text = await ctx.client.logs(pod, namespace=ns, container=spec.container,
                                         previous=spec.previous)
        except ApiError as err:
            read.append(f"  pod {pod}: {err}")
            continue
        found = pattern.search(text)
        if found:
            ctx.note(f"pod {pod} logged: {found.group(0)}")
            return
        tail = text.rstrip("\n").splitlines()[-10:]
        read.append(f"  pod {pod}{' (previous run)' if spec.previous else ''}, last lines:")
        read.extend(f"    {line}" for line in tail or ["<empty>"])
    raise StepFailed(f"no log line of {', '.join(pods)} matches /{spec.matches}/", details="\n".join(read))
