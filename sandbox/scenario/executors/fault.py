"""``fault``: break something on purpose, to watch the platform heal.

==================  =============================================================
killProcess         SIGKILL a container's main process (the sandbox's fault
                    endpoint ``POST /sandbox/v1/faults/kill-process``): the
                    kubelet sees it exit 137 and restarts it per restartPolicy
deletePod           delete a pod (its controller makes a new one)
cordon / uncordon   mark a node (un)schedulable, as ``kubectl cordon``
drain               cordon, then evict every pod on the node except DaemonSet
                    and mirror pods, and wait until they are gone, as ``kubectl drain``
pauseController     stop one controller from reconciling for ``duration``
                    (``POST /sandbox/v1/faults/pause-controller``), to show
                    level-triggered catch-up
==================  =============================================================

With ``selector`` instead of ``pod``, the fault hits one pod: the first
Running one by name, so a run is repeatable. Killing a process and pausing a
controller have no Kubernetes API; they use the sandbox API server's fault
endpoints (admin only), which a real cluster does not serve — those actions
fail there with the server's 404.
"""

from __future__ import annotations

from typing import Any

from sandbox.api.errors import ApiError, NotFound
from sandbox.client.waiting import WaitTimeout
from sandbox.scenario.context import StepContext
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import Fault

__all__ = ["DRAIN_TIMEOUT", "execute"]

#: Seconds ``drain`` waits for the evicted pods to be gone.
DRAIN_TIMEOUT = 60.0


async def execute(spec: Fault, ctx: StepContext) -> None:
    action = {"killProcess": _kill_process, "deletePod": _delete_pod, "cordon": _cordon,
              "uncordon": _uncordon, "drain": _drain, "pauseController": _pause}[spec.action]
    await action(spec, ctx)


async def _pick_pod(spec: Fault, ctx: StepContext) -> dict[str, Any]:
    namespace = spec.namespace or ctx.namespace
    if spec.pod is not None:
        try:
            return await ctx.client.get("v1", "Pod", spec.pod, namespace=namespace)
        except NotFound:
            raise StepFailed(f'pod "{spec.pod}" not found in namespace {namespace}') from None
    pods = (await ctx.client.list("v1", "Pod", namespace=namespace, label_selector=spec.selector))["items"]
    running = sorted((p for p in pods if (p.get("status") or {}).get("phase") == "Running"
                      and not p["metadata"].get("deletionTimestamp")),
                     key=lambda p: p["metadata"]["name"])
    if not running:
        raise StepFailed(f"no Running pod matches {spec.selector} in namespace {namespace} "
                         f"({len(pods)} pods match, none running)")
    return running[0]


async def _fault_request(path: str, body: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    response = await ctx.target.request("POST", f"/sandbox/v1/faults/{path}", json=body)
    try:
        answer: dict[str, Any] = response.json()
    except ValueError:
        answer = {"message": response.text}
    if response.status_code >= 400:
        raise StepFailed(f"the fault endpoint refused: {answer.get('message') or response.status_code}")
    return answer


async def _kill_process(spec: Fault, ctx: StepContext) -> None:
    pod = await _pick_pod(spec, ctx)
    meta = pod["metadata"]
    answer = await _fault_request("kill-process", {"namespace": meta["namespace"], "pod": meta["name"]}, ctx)
    ctx.note(f"killed process {answer.get('pid')} (container {answer.get('container')}) of pod "
             f"{meta['name']} with {answer.get('signal', 'SIGKILL')}")


async def _delete_pod(spec: Fault, ctx: StepContext) -> None:
    pod = await _pick_pod(spec, ctx)
    meta = pod["metadata"]
    await ctx.client.delete("v1", "Pod", meta["name"], namespace=meta["namespace"])
    ctx.command(f"kubectl delete pod {meta['name']} --wait=false", f'pod "{meta["name"]}" deleted')


async def _set_unschedulable(spec: Fault, ctx: StepContext, value: bool) -> str:
    node = str(spec.node)
    try:
        await ctx.client.patch("v1", "Node", node, {"spec": {"unschedulable": value or None}})
    except NotFound:
        raise StepFailed(f'node "{node}" not found') from None
    return f"node/{node} {'cordoned' if value else 'uncordoned'}"


async def _cordon(spec: Fault, ctx: StepContext) -> None:
    ctx.command(f"kubectl cordon {spec.node}", await _set_unschedulable(spec, ctx, True))


async def _uncordon(spec: Fault, ctx: StepContext) -> None:
    ctx.command(f"kubectl uncordon {spec.node}", await _set_unschedulable(spec, ctx, False))


def _evictable(pod: dict[str, Any]) -> bool:
    meta = pod["metadata"]
    if "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
        return False
    owners = meta.get("ownerReferences") or []
    return not any(o.get("kind") == "DaemonSet" and o.get("controller") for o in owners)


async def _drain(spec: Fault, ctx: StepContext) -> None:
    lines = [await _set_unschedulable(spec, ctx, True)]
    pods = (await ctx.client.list("v1", "Pod", field_selector=f"spec.nodeName={spec.node}"))["items"]
    skipped = [p["metadata"]["name"] for p in pods if not _evictable(p)]
    if skipped:
        lines.append(f"Warning: ignoring DaemonSet-managed Pods: {', '.join(skipped)}")
    evicted = [p for p in pods if _evictable(p)]
    try:
        for pod in evicted:
            meta = pod["metadata"]
            lines.append(f"evicting pod {meta['namespace']}/{meta['name']}")
            eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                        "metadata": {"name": meta["name"], "namespace": meta["namespace"]}}
            response = await ctx.target.request(
                "POST", f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/eviction",
                json=eviction)
            if response.status_code >= 400 and response.status_code != 404:
                raise StepFailed(f"evicting {meta['namespace']}/{meta['name']} failed: "
                                 f"HTTP {response.status_code} {response.text[:300]}")
        for pod in evicted:
            meta = pod["metadata"]
            ctx.progress(f"waiting for pod {meta['namespace']}/{meta['name']} to be gone")
            try:
                await ctx.client.wait_for("v1", "Pod", meta["name"], namespace=meta["namespace"],
                                          deleted=True, timeout=DRAIN_TIMEOUT)
            except WaitTimeout as err:
                raise StepFailed(f"pod {meta['namespace']}/{meta['name']} was not gone after "
                                 f"{DRAIN_TIMEOUT:g}s", details=str(err)) from None
            lines.append(f"pod/{meta['name']} evicted")
        lines.append(f"node/{spec.node} drained")
    except ApiError as err:
        raise StepFailed(f"drain of {spec.node}: {err}") from None
    finally:
        ctx.command(f"kubectl drain {spec.node} --ignore-daemonsets", "\n".join(lines))


async def _pause(spec: Fault, ctx: StepContext) -> None:
    answer = await _fault_request("pause-controller",
                                  {"controller": spec.controller, "seconds": spec.duration}, ctx)
    until = answer.get("pausedUntil")
    ctx.note(f"paused the {spec.controller} controller for {spec.duration:g}s"
             + (f" (until {until})" if until else ""))
