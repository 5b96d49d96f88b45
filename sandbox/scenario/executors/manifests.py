"""``apply`` and ``delete``: manifests into and out of the cluster, as kubectl would.

Data flow of ``apply``::

    files (text ─render {{ }}─▶ YAML documents)  or  inline manifest (already rendered)
      ─▶ objects (``kind: List`` flattened, empty documents dropped)
      ─▶ CustomResourceDefinitions and Namespaces first; wait until each CRD is Established
      ─▶ every other object: server-side apply (field manager ``sandbox-scenario``, force)
      ─▶ "deployment.apps/web created | configured | unchanged", like kubectl

Server-side apply makes a step idempotent — re-running a scenario on the
daemon updates what the last run left instead of failing with AlreadyExists —
and is what ``kubectl apply --server-side`` does. The step shows the command
a learner would type: ``kubectl apply -f <file>`` or, for an inline manifest,
``kubectl apply -f -`` with the YAML it sends.

``delete`` deletes in the reverse order (objects before the CRDs that define
them) and waits until each object is gone, as ``kubectl delete`` does by
default. Objects that name no namespace go to the scenario's namespace;
the server ignores it for cluster-scoped kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from sandbox.api.errors import ApiError, NotFound
from sandbox.client.waiting import WaitTimeout
from sandbox.scenario.context import StepContext
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import Apply, Delete
from sandbox.scenario.templating import render

__all__ = ["CRD_ESTABLISH_TIMEOUT", "DELETE_TIMEOUT", "FIELD_MANAGER", "apply", "delete", "load_objects"]

FIELD_MANAGER = "sandbox-scenario"
#: Seconds a CRD may take to be Established, and an object to be gone after delete.
CRD_ESTABLISH_TIMEOUT = 30.0
DELETE_TIMEOUT = 60.0

_CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
_FIRST = {("apiextensions.k8s.io", "CustomResourceDefinition"), ("", "Namespace")}


def load_objects(spec: Apply, ctx: StepContext) -> list[tuple[str, list[dict[str, Any]]]]:
    """(the kubectl command that sends them, objects) per file, or one pair for the inline manifest."""
    sources: list[tuple[str, list[dict[str, Any]]]] = []
    if spec.files is not None:
        for name in spec.files:
            path = ctx.path(name)
            try:
                text = render(path.read_text(encoding="utf-8"), ctx.variables)
                documents = list(yaml.safe_load_all(text))
            except OSError as err:
                raise StepFailed(f"cannot read manifest {name}: {err.strerror}") from None
            except yaml.YAMLError as err:
                raise StepFailed(f"{name} is not valid YAML: {err}") from None
            sources.append((name, _objects(documents, name)))
    else:
        manifest = spec.manifest
        documents = manifest if isinstance(manifest, list) else [manifest]
        sources.append(("-", _objects(documents, "the inline manifest")))
    return sources


def _objects(documents: Iterable[Any], where: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict) or not document.get("apiVersion") or not document.get("kind"):
            raise StepFailed(f"{where}: every document must be an object with apiVersion and kind")
        if document["kind"] == "List" or (document["kind"].endswith("List") and "items" in document):
            objects.extend(_objects(document.get("items") or [], where))
            continue
        if not (document.get("metadata") or {}).get("name"):
            raise StepFailed(f"{where}: a {document['kind']} without metadata.name "
                             "(generateName is not supported by apply)")
        objects.append(document)
    return objects


def _group(obj: dict[str, Any]) -> str:
    api_version = str(obj["apiVersion"])
    return api_version.split("/")[0] if "/" in api_version else ""


def display_name(obj: dict[str, Any]) -> str:
    """``deployment.apps/web``: kubectl's way of naming an object in its output."""
    group = _group(obj)
    kind = str(obj["kind"]).lower()
    return f"{kind}.{group}/{obj['metadata']['name']}" if group else f"{kind}/{obj['metadata']['name']}"


def _ordered(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from (o for o in objects if (_group(o), o["kind"]) in _FIRST)
    yield from (o for o in objects if (_group(o), o["kind"]) not in _FIRST)


def _command(source: str, objects: list[dict[str, Any]], verb: str) -> str:
    if source != "-":
        return f"kubectl {verb} -f {source}"
    body = yaml.safe_dump_all(objects, sort_keys=False).rstrip("\n")
    return f"kubectl {verb} -f - <<'EOF'\n{body}\nEOF"


async def apply(spec: Apply, ctx: StepContext) -> None:
    """Apply every object (see the module docstring)."""
    for source, objects in load_objects(spec, ctx):
        lines: list[str] = []
        try:
            for obj in _ordered(objects):
                lines.append(f"{display_name(obj)} {await _apply_one(obj, spec.namespace, ctx)}")
        finally:
            ctx.command(_command(source, objects, "apply"), "\n".join(lines))


async def _apply_one(obj: dict[str, Any], namespace: str | None, ctx: StepContext) -> str:
    meta = obj.get("metadata") or {}
    name = meta["name"]
    ns = meta.get("namespace") or namespace or ctx.namespace
    api_version, kind = obj["apiVersion"], obj["kind"]
    client = ctx.client
    try:
        before = await client.get(api_version, kind, name, namespace=ns)
    except NotFound:
        before = None
    try:
        after = await client.patch(api_version, kind, name, obj, namespace=ns, patch_type="apply",
                                   field_manager=FIELD_MANAGER, force=True)
    except ApiError as err:
        raise StepFailed(f"{display_name(obj)}: {err}", details=_causes(err)) from None
    if kind == "CustomResourceDefinition" and _group(obj) == "apiextensions.k8s.io":
        await _established(name, ctx)
    if before is None:
        return "created"
    same = before["metadata"].get("resourceVersion") == after["metadata"].get("resourceVersion")
    return "unchanged" if same else "configured"


def _causes(err: ApiError) -> str:
    details = err.status.get("details") or {}
    return "\n".join(f"  {c.get('field', '')}: {c.get('message', '')}"
                     for c in details.get("causes") or ())


async def _established(name: str, ctx: StepContext) -> None:
    """A CRD's kinds are usable once it is Established (kubectl's ``wait --for=condition=Established``)."""
    ctx.progress(f"waiting for CustomResourceDefinition {name} to be Established")
    try:
        await ctx.client.wait_for(*_CRD, name, condition="Established", timeout=CRD_ESTABLISH_TIMEOUT)
    except WaitTimeout as err:
        raise StepFailed(f"CustomResourceDefinition {name} was not Established", details=str(err)) from None
    ctx.kinds.forget()


async def delete(spec: Delete, ctx: StepContext) -> None:
    """Delete every object, newest-defined first, and wait until each is gone."""
    for source, objects in load_objects(spec, ctx):
        lines: list[str] = []
        try:
            for obj in reversed(list(_ordered(objects))):
                lines.append(await _delete_one(obj, spec, ctx))
        finally:
            ctx.command(_command(source, objects, "delete"), "\n".join(lines))


async def _delete_one(obj: dict[str, Any], spec: Delete, ctx: StepContext) -> str:
    meta = obj["metadata"]
    name = meta["name"]
    ns = meta.get("namespace") or spec.namespace or ctx.namespace
    api_version, kind = obj["apiVersion"], obj["kind"]
    shown = f'{str(kind).lower()}{"." + _group(obj) if _group(obj) else ""} "{name}"'
    try:
        await ctx.client.delete(api_version, kind, name, namespace=ns,
                                propagation_policy="Background")
    except NotFound:
        if spec.ignore_not_found:
            return f"{shown} not found (ignored)"
        raise StepFailed(f"{shown} not found") from None
    except ApiError as err:
        raise StepFailed(f"{shown}: {err}") from None
    ctx.progress(f"waiting for {shown} to be gone")
    try:
        await ctx.client.wait_for(api_version, kind, name, namespace=ns, deleted=True,
                                  timeout=DELETE_TIMEOUT)
    except WaitTimeout as err:
        raise StepFailed(f"{shown} was not gone after {DELETE_TIMEOUT:g}s", details=str(err)) from None
    if kind == "CustomResourceDefinition":
        ctx.kinds.forget()
    return f"{shown} deleted"
