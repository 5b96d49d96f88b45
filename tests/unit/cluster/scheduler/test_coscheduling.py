"""Coscheduling: a PodGroup's pods bind together once minMember fit, or none of them does."""

from __future__ import annotations

from typing import Any

from scheduler_helpers import add_node, bound, condition_of, node_of, pod, running, settle, until

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.scheduler.plugins.coscheduling import POD_GROUP_LABEL

GROUP = "train"
MEMBERS = ["train-0", "train-1", "train-2"]


async def pod_group(client: MemoryClient, *, min_member: int = 3, **spec: Any) -> None:
    await client.create({
        "apiVersion": "scheduling.x-k8s.io/v1alpha1",
        "kind": "PodGroup",
        "metadata": {"name": GROUP, "namespace": "default"},
        "spec": {"minMember": min_member, **spec},
    })


async def members(client: MemoryClient, names: list[str] = MEMBERS, **kwargs: Any) -> None:
    for name in names:
        await client.create(pod(name, cpu="2", labels={POD_GROUP_LABEL: GROUP}, **kwargs))


async def message_of(client: MemoryClient, name: str) -> str | None:
    condition = await condition_of(client, name)
    if condition is None or condition["status"] != "False":
        return None
    return condition["message"]


async def pg_status(client: MemoryClient) -> dict[str, Any]:
    obj = await client.get("scheduling.x-k8s.io/v1alpha1", "PodGroup", GROUP, namespace="default")
    return obj.get("status") or {}


async def test_a_gang_with_room_for_all_members_binds_them_all(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a", cpu="4")
    await add_node(client, "b", cpu="2")
    await pod_group(client)
    async with running(client, clock):
        await members(client)
        await until(lambda: bound(client, *MEMBERS), what="the whole gang bound")

        async def scheduled() -> bool:
            return (await pg_status(client)).get("phase") == "Scheduled"

        await until(scheduled, what="the PodGroup reported Scheduled")
        status = await pg_status(client)
        assert status["scheduled"] == 3 and "scheduleStartTime" in status


async def test_a_gang_with_room_for_two_of_three_schedules_none(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a", cpu="2")
    await add_node(client, "b", cpu="2")
    await pod_group(client)
    async with running(client, clock):
        await members(client)

        async def all_pending() -> bool:
            return all([await message_of(client, n) for n in MEMBERS])

        await until(all_pending, what="every member pending")
        for _ in range(5):  # retries along the backoff: never a partial gang
            await clock.advance(10)
            await settle()
            assert [await node_of(client, n) for n in MEMBERS] == [None, None, None]
        messages = {n: await message_of(client, n) for n in MEMBERS}
    # The member that found no room rejected the group; the two that were
    # waiting at Permit with a node reserved were released.
    rejected_by = [n for n, m in messages.items() if m and "gets rejected due to Pod" in m]
    assert rejected_by, messages
    assert messages[rejected_by[0]].endswith(  # type: ignore[union-attr]
        f"PodGroup default/{GROUP} gets rejected due to Pod {rejected_by[0]} is unschedulable "
        "even after PostFilter"
    )
    released = [m for m in messages.values() if m and "optimistic rejection in PostFilter" in m]
    assert released and released[0] == "0/1 nodes are available: 1 optimistic rejection in PostFilter."


async def test_waiting_members_are_rejected_when_the_gang_times_out(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a", cpu="8")
    await pod_group(client)
    async with running(client, clock) as scheduler:
        # The third member belongs to a scheduler that never comes: the gang
        # exists (PreFilter is satisfied) but can never be complete.
        await members(client, MEMBERS[:2])
        await members(client, MEMBERS[2:], schedulerName="absent-scheduler")
        await until(lambda: len(scheduler.framework.waiting_pods.all()) == 2, what="both at Permit")
        await clock.advance(59)
        await settle()
        assert await message_of(client, "train-0") is None  # still waiting, node reserved
        await clock.advance(1)

        async def both_rejected() -> bool:
            return all([await message_of(client, n) for n in MEMBERS[:2]])

        await until(both_rejected, what="both waiting members rejected")
        messages = sorted([await message_of(client, n) for n in MEMBERS[:2]])  # type: ignore[type-var]
    assert messages == [
        "0/1 nodes are available: 1 rejected due to timeout after waiting 1m0s at plugin Coscheduling.",
        "0/1 nodes are available: 1 rejection in Unreserve.",
    ]
    assert not await bound(client, "train-0") and not await bound(client, "train-1")


async def test_the_pod_group_schedule_timeout_overrides_the_default(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a", cpu="8")
    await pod_group(client, min_member=2, scheduleTimeoutSeconds=10)
    async with running(client, clock) as scheduler:
        await members(client, MEMBERS[:1])
        await members(client, MEMBERS[1:2], schedulerName="absent-scheduler")
        await until(lambda: len(scheduler.framework.waiting_pods.all()) == 1, what="waiting at Permit")
        await clock.advance(9)
        await settle()
        assert await message_of(client, "train-0") is None
        await clock.advance(1)
        await until(lambda: _has_message(client, "train-0"))
        assert await message_of(client, "train-0") == (
            "0/1 nodes are available: 1 rejected due to timeout after waiting 10s at plugin "
            "Coscheduling."
        )


async def _has_message(client: MemoryClient, name: str) -> bool:
    return await message_of(client, name) is not None


async def test_a_group_with_fewer_pods_than_min_member_is_rejected_before_filtering(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a", cpu="8")
    await pod_group(client)
    async with running(client, clock):
        await members(client, MEMBERS[:2])
        await until(lambda: _has_message(client, "train-0"))
        assert await message_of(client, "train-0") == (
            "0/1 nodes are available: pre-filter pod train-0 cannot find enough sibling pods, "
            "current pods number: 2, minMember of group: 3. preemption: 0/1 nodes are "
            "available: 1 Preemption is not helpful for scheduling., PodGroup default/train "
            "gets rejected due to Pod train-0 is unschedulable even after PostFilter"
        )

        async def pending_phase() -> bool:
            return (await pg_status(client)).get("phase") == "Pending"

        await until(pending_phase)
        # The missing member arrives: the group is complete and binds.
        await members(client, MEMBERS[2:])
        await clock.advance(2)
        await until(lambda: bound(client, *MEMBERS), what="the completed gang bound")


async def test_a_pod_whose_pod_group_does_not_exist_is_rejected_at_permit(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a")
    async with running(client, clock):
        await members(client, MEMBERS[:1])
        await until(lambda: _has_message(client, "train-0"))
        assert await message_of(client, "train-0") == "0/1 nodes are available: 1 PodGroup not found."
        await pod_group(client, min_member=1)
        await clock.advance(2)
        await until(lambda: bound(client, "train-0"), what="bound once its PodGroup exists")


async def test_a_gang_waiting_for_room_binds_when_a_node_is_added(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a", cpu="2")
    await add_node(client, "b", cpu="2")
    await pod_group(client)
    async with running(client, clock):
        await members(client)

        async def all_pending() -> bool:
            return all([await message_of(client, n) for n in MEMBERS])

        await until(all_pending)
        await add_node(client, "c", cpu="2")
        for _ in range(40):
            if await bound(client, *MEMBERS):
                break
            await clock.advance(5)
            await settle()
        assert sorted([await node_of(client, n) for n in MEMBERS]) == ["a", "b", "c"]


async def test_pods_without_a_pod_group_get_no_coscheduling_words(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a", cpu="1")
    async with running(client, clock):
        await client.create(pod("solo", cpu="2"))
        await until(lambda: _has_message(client, "solo"))
        assert await message_of(client, "solo") == (
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod."
        )
