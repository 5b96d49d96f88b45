"""Adopting and releasing children: who owns which pod (``ControllerRefManager``).

A workload owns the children its selector matches *and* whose controller
reference names it. The two can disagree: a user creates a bare pod that
matches a ReplicaSet's selector (an orphan, to adopt), or relabels a pod so
it no longer matches (to release, keeping it running but unowned). Kubernetes
settles this on every sync with ``ClaimPods``/``ClaimReplicaSets``, and so does
:func:`claim`:

- a child controlled by someone else is never touched;
- a child controlled by this owner that still matches is kept; one that no
  longer matches is released (its controller reference removed), unless the
  owner is being deleted (the garbage collector will decide);
- an orphan that matches is adopted (a controller reference added), unless
  the owner or the child is being deleted. Before the first adoption the
  owner is re-read from the API server (not the cache): adopting on behalf
  of an owner that was just deleted and recreated under the same name would
  hand children to the wrong object (``RecheckDeletionTimestamp``).

Adoption and release are strategic merge patches of ``ownerReferences``
keyed by uid, carrying the child's uid as a precondition, exactly the
patches Kubernetes sends; they work for the built-in kinds that workloads
own (Pods, ReplicaSets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sandbox.api.errors import Conflict, Invalid, NotFound
from sandbox.api.objects import controller_of, deep_copy, is_being_deleted, meta, owner_reference
from sandbox.api.selectors import LabelSelector
from sandbox.client.protocol import Client
from sandbox.runtime import get_logger

__all__ = ["claim"]

log = get_logger(__name__)


async def claim(
    client: Client,
    owner: Mapping[str, Any],
    candidates: Iterable[Mapping[str, Any]],
    *,
    selector: LabelSelector,
    child: tuple[str, str],
    member: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """The children of ``owner`` among ``candidates`` (copies, safe to edit),
    adopting and releasing as needed.

    ``child`` is the candidates' ``(api_version, kind)``; ``member`` narrows
    what may be adopted beyond the selector (a StatefulSet adopts only pods
    named after it).
    """
    owner_meta = meta(owner)
    uid = owner_meta["uid"]
    owner_deleting = is_being_deleted(owner)
    checked: list[bool] = []
    claimed: list[dict[str, Any]] = []
    for obj in candidates:
        ref = controller_of(obj)
        matches = selector.matches(meta(obj).get("labels") or {}) and (member is None or member(obj))
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches or owner_deleting:
                claimed.append(deep_copy(obj))
                continue
            await _release(client, owner, obj, child=child)
            continue
        if not matches or owner_deleting or is_being_deleted(obj):
            continue
        if not checked:
            checked.append(await _still_there(client, owner))
        if not checked[0]:
            continue
        adopted = await _adopt(client, owner, obj, child=child)
        if adopted is not None:
            claimed.append(adopted)
    return claimed


async def _still_there(client: Client, owner: Mapping[str, Any]) -> bool:
    """The owner, read fresh, is the same object and not being deleted."""
    owner_meta = meta(owner)
    try:
        fresh = await client.get(
            owner["apiVersion"], owner["kind"], owner_meta["name"],
            namespace=owner_meta.get("namespace"),
        )
    except NotFound:
        return False
    if meta(fresh).get("uid") != owner_meta["uid"]:
        log.info("%s %s was replaced; not adopting for it", owner["kind"], owner_meta["name"])
        return False
    return not is_being_deleted(fresh)


async def _adopt(
    client: Client, owner: Mapping[str, Any], obj: Mapping[str, Any], *, child: tuple[str, str]
) -> dict[str, Any] | None:
    obj_meta = meta(obj)
    patch = {"metadata": {"ownerReferences": [owner_reference(owner)], "uid": obj_meta["uid"]}}
    try:
        return await client.patch(
            *child, obj_meta["name"], patch,
            namespace=obj_meta.get("namespace"), patch_type="strategic",
        )
    except (NotFound, Conflict):
        return None  # gone, or replaced by a new object of the same name


async def _release(
    client: Client, owner: Mapping[str, Any], obj: Mapping[str, Any], *, child: tuple[str, str]
) -> None:
    obj_meta = meta(obj)
    patch = {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": meta(owner)["uid"]}],
            "uid": obj_meta["uid"],
        }
    }
    try:
        await client.patch(
            *child, obj_meta["name"], patch,
            namespace=obj_meta.get("namespace"), patch_type="strategic",
        )
    except (NotFound, Conflict, Invalid):
        # Gone, or changed under us so the patch no longer applies: either
        # way it is not ours any more.
        pass
