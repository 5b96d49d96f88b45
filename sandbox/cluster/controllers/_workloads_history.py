"""ControllerRevisions: the history of a workload's pod template.

A StatefulSet cannot rebuild an old pod from its current spec: during a
partitioned rolling update, ordinals below the partition must be recreated
from the *previous* template. Kubernetes keeps every template a workload had
as a ``ControllerRevision`` (``pkg/controller/history``) and so does the
sandbox, which also makes ``kubectl rollout history`` and ``kubectl rollout
undo`` work for StatefulSets.

A revision is named ``<owner>-<hash>``; its ``data`` is the strategic merge
patch that restores the template (``{"spec": {"template": {..., "$patch":
"replace"}}}``), its ``revision`` a number growing with each change, and it
is owned (controller reference) by the workload. :func:`sync_revisions`
finds or creates the revision of the current template:

- the newest revision already equal to it: nothing to do;
- an older equal revision (a rollback): its number moves to the front;
- none: a new revision, numbered one past the newest. A name already taken by
  a different template (a hash collision) bumps ``collisionCount``, which
  salts the hash, until a free name is found.

:func:`truncate_history` deletes the oldest revisions that no pod and no
status field refers to, beyond ``revisionHistoryLimit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.api.errors import AlreadyExists, NotFound
from sandbox.api.objects import deep_copy, meta, owner_reference
from sandbox.client.protocol import Client

from ._workloads import template_hash

__all__ = [
    "HASH_LABEL",
    "REVISION",
    "sync_revisions",
    "template_of",
    "truncate_history",
]

REVISION = ("apps/v1", "ControllerRevision")
HASH_LABEL = "controller.kubernetes.io/hash"
_MAX_COLLISIONS = 20


def _data(template: Mapping[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {**deep_copy(dict(template)), "$patch": "replace"}}}


def template_of(revision: Mapping[str, Any]) -> dict[str, Any]:
    """The pod template a revision restores."""
    template = dict(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def _number(revision: Mapping[str, Any]) -> int:
    return int(revision.get("revision") or 0)


def _new_revision(
    owner: Mapping[str, Any], template: Mapping[str, Any], number: int, collision_count: int
) -> dict[str, Any]:
    data = _data(template)
    digest = template_hash(data, collision_count)
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[HASH_LABEL] = digest
    revision_meta: dict[str, Any] = {
        "name": f"{meta(owner)['name'][:223]}-{digest}",
        "namespace": meta(owner)["namespace"],
        "labels": labels,
        "ownerReferences": [owner_reference(owner)],
    }
    if meta(owner).get("annotations"):
        revision_meta["annotations"] = dict(meta(owner)["annotations"])
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": revision_meta,
        "data": data,
        "revision": number,
    }


async def sync_revisions(
    client: Client,
    owner: Mapping[str, Any],
    revisions: Iterable[Mapping[str, Any]],
    *,
    template: Mapping[str, Any],
    current_name: str | None,
    collision_count: int,
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(current revision, update revision, collision count) for ``owner``.

    ``revisions`` are the owner's ControllerRevisions; ``current_name`` is
    the revision its status calls current (``None`` at first: the update
    revision becomes current).
    """
    ordered = sorted((dict(r) for r in revisions), key=lambda r: (_number(r), meta(r)["name"]))
    data = _data(template)
    next_number = (_number(ordered[-1]) if ordered else 0) + 1
    equal = [r for r in ordered if r.get("data") == data]
    if equal and equal[-1] is ordered[-1]:
        update = ordered[-1]
    elif equal:
        update = await client.patch(
            *REVISION, meta(equal[-1])["name"], {"revision": next_number},
            namespace=meta(owner)["namespace"],
        )
    else:
        update, collision_count = await _create(client, owner, template, next_number, collision_count)
    current = next((r for r in ordered if meta(r)["name"] == current_name), None)
    return (current or update), update, collision_count


async def _create(
    client: Client, owner: Mapping[str, Any], template: Mapping[str, Any], number: int, collision_count: int
) -> tuple[dict[str, Any], int]:
    for _ in range(_MAX_COLLISIONS):
        revision = _new_revision(owner, template, number, collision_count)
        try:
            return await client.create(revision), collision_count
        except AlreadyExists:
            existing = await client.get(
                *REVISION, meta(revision)["name"], namespace=meta(owner)["namespace"]
            )
            if existing.get("data") == revision["data"]:
                return existing, collision_count
            collision_count += 1
    raise AlreadyExists(
        f"could not find a free ControllerRevision name for {meta(owner)['name']!r}"
    )


async def truncate_history(
    client: Client,
    revisions: Iterable[Mapping[str, Any]],
    *,
    live: set[str],
    limit: int,
) -> None:
    """Delete the oldest revisions not in ``live`` beyond ``limit`` of them."""
    history = sorted(
        (r for r in revisions if meta(r)["name"] not in live),
        key=lambda r: (_number(r), meta(r)["name"]),
    )
    for revision in history[: max(len(history) - limit, 0)]:
        try:
            await client.delete(
                *REVISION, meta(revision)["name"], namespace=meta(revision)["namespace"]
            )
        except NotFound:
            pass
