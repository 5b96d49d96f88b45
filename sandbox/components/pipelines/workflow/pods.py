"""One task → one Pod: the component's image, its command, its resources.

The executor of a container task (``deploymentSpec.executors[label].container``
in the IR) becomes a Pod the kubelet runs. Two kinds of command:

- **Lightweight Python components** carry kfp's launcher: ``sh -c <pip
  bootstrap> sh -ec <launcher> <source>`` with ``--executor_input {{$}}
  --function_to_execute NAME``. Run as written, the bootstrap would call pip
  (the network) and a fresh interpreter would import kfp (hundreds of
  milliseconds). So it is recognised and the pod runs the sandbox's
  executor instead — ``python -m sandbox.components.pipelines.executor
  --component_source … --executor_input … --function_to_execute …`` —
  which does what kfp's ``executor_main`` does, forked from the warm zygote,
  and checks ``packages_to_install`` are installed instead of installing
  them. The original command is kept in the annotation
  ``pipelines.kubeflow.org/kfp-command`` for whoever wants to see it.
- **Container components** (and any other command) run as written, with
  their placeholders resolved (:mod:`.placeholders`).

Resources come from the executor's ``resources`` (``resourceCpuLimit``
strings, or the older numeric ``cpuLimit``/``memoryLimit`` in GB) and its
accelerator (``resourceType``/``type`` → an extended resource such as
``nvidia.com/gpu``). Environment: the container's ``env``, plus
``SANDBOX_ARTIFACT_ROOT`` so artifact URIs map to the local store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.cluster.kubelet.worker import ZYGOTE_ANNOTATION
from sandbox.cluster.runtime.zygote import MINIMAL_ZYGOTE
from sandbox.components.pipelines.executor.command import (
    EXECUTOR_MODULE,
    executor_argv,
    imports_only_stdlib,
    parse_lightweight_command,
)
from sandbox.components.pipelines.storage.uris import ROOT_ENV
from sandbox.components.pipelines.workflow.placeholders import resolve_command

__all__ = ["KFP_COMMAND_ANNOTATION", "task_container"]

KFP_COMMAND_ANNOTATION = "pipelines.kubeflow.org/kfp-command"


def _quantity(value: Any, unit: str = "") -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}{unit}"


def _resources(spec: Mapping[str, Any]) -> dict[str, Any]:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for target, key_str, key_num, field in ((limits, "resourceCpuLimit", "cpuLimit", "cpu"),
                                            (requests, "resourceCpuRequest", "cpuRequest", "cpu"),
                                            (limits, "resourceMemoryLimit", "memoryLimit", "memory"),
                                            (requests, "resourceMemoryRequest", "memoryRequest", "memory")):
        if spec.get(key_str):
            target[field] = str(spec[key_str])
        elif spec.get(key_num):
            target[field] = _quantity(spec[key_num], "G" if field == "memory" else "")
    accelerator = spec.get("accelerator") or {}
    kind = accelerator.get("resourceType") or accelerator.get("type")
    count = accelerator.get("resourceCount") or accelerator.get("count")
    if kind and count:
        limits[str(kind)] = str(count)
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


def task_container(executor: Mapping[str, Any], executor_input: Mapping[str, Any], *,
                   artifact_root: str, path_of: Callable[[str], str],
                   context: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the container of the task's pod, annotations for the pod) from an IR container executor."""
    spec = executor["container"]
    command = [str(c) for c in spec.get("command") or []]
    args = [str(a) for a in spec.get("args") or []]
    annotations: dict[str, str] = {}
    launcher = parse_lightweight_command(command, args)
    if launcher is not None:
        run = ["python", "-m", EXECUTOR_MODULE,
               *executor_argv(launcher, json.dumps(executor_input, sort_keys=True))]
        annotations[KFP_COMMAND_ANNOTATION] = json.dumps({"command": command[:6], "args": args})
        if not launcher.packages_to_install and imports_only_stdlib(launcher.source):
            annotations[ZYGOTE_ANNOTATION] = MINIMAL_ZYGOTE
        container: dict[str, Any] = {"command": run}
    else:
        container = {}
        if command:
            container["command"] = resolve_command(command, executor_input, path_of=path_of, context=context)
        if args:
            container["args"] = resolve_command(args, executor_input, path_of=path_of, context=context)
    env = [{"name": str(e["name"]), "value": str(e.get("value", ""))} for e in spec.get("env") or []]
    env.append({"name": ROOT_ENV, "value": artifact_root})
    container = {"name": "main", "image": str(spec.get("image") or "python:3.11"), **container, "env": env}
    resources = _resources(spec.get("resources") or {})
    if resources:
        container["resources"] = resources
    return container, annotations
