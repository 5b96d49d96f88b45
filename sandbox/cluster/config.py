"""Cluster files: the shape of an in-process cluster, as validated data.

A cluster file (``clusters/inprocess/<name>.yaml``) says which nodes exist
(capacity, labels, taints, how their pods run) and the lifecycle knobs that
make teaching scenarios fast (a CrashLoopBackOff that starts at one second
instead of ten). It is data, validated by the pydantic models below, so a
typo is an error with a line-free but exact field path, never a silently
different cluster.

Node groups: a node entry with ``count: N`` expands to N nodes named
``<name>-<i>`` (``large.yaml`` declares 1,000 simulated nodes in one entry).

Runtimes: ``process`` nodes run containers as real processes (the kubelet
picks the zygote for Python containers when ``zygote: true``);
``simulated`` nodes take pods through their lifecycle without processes, like
kwok, for scale teaching and benchmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sandbox.api.quantity import parse_quantity

__all__ = [
    "CLUSTERS_DIR",
    "ClusterConfig",
    "ClusterFileError",
    "Lifecycle",
    "Networking",
    "NodeConfig",
    "Taint",
    "find_cluster_file",
    "load_cluster",
]

#: The cluster files shipped with the project.
CLUSTERS_DIR = Path(__file__).resolve().parents[2] / "clusters" / "inprocess"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Taint(_Strict):
    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeConfig(_Strict):
    """One node, or a group of identical nodes when ``count`` > 1."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    count: int = Field(default=1, ge=1, le=100_000)
    #: Resources as Kubernetes quantities: cpu, memory, pods, nvidia.com/gpu, ...
    capacity: dict[str, str | int | float]
    #: Defaults to ``capacity``.
    allocatable: dict[str, str | int | float] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    runtime: Literal["process", "simulated"] = "process"
    #: Control-plane nodes get the role label and, unless ``taints`` says
    #: otherwise, the NoSchedule taint Kubernetes puts on them.
    control_plane: bool = Field(default=False, alias="controlPlane")

    @field_validator("capacity", "allocatable")
    @classmethod
    def _quantities(
        cls, value: dict[str, str | int | float] | None
    ) -> dict[str, str | int | float] | None:
        for resource, amount in (value or {}).items():
            try:
                parse_quantity(amount)
            except ValueError as err:
                raise ValueError(f"{resource}: {err}") from None
        return value

    @model_validator(mode="after")
    def _needs_cpu_memory_pods(self) -> NodeConfig:
        missing = [r for r in ("cpu", "memory", "pods") if r not in self.capacity]
        if missing:
            raise ValueError(f"capacity needs {', '.join(missing)}")
        return self

    def names(self) -> list[str]:
        if self.count == 1:
            return [self.name]
        return [f"{self.name}-{i}" for i in range(self.count)]


class Lifecycle(_Strict):
    """Timing knobs, in seconds. Kubernetes' defaults in comments."""

    crash_loop_base_delay: float = Field(default=1.0, gt=0, alias="crashLoopBaseDelay")  # 10
    crash_loop_max_delay: float = Field(default=30.0, gt=0, alias="crashLoopMaxDelay")  # 300
    image_pull_base_delay: float = Field(default=1.0, gt=0, alias="imagePullBaseDelay")  # 10
    image_pull_max_delay: float = Field(default=30.0, gt=0, alias="imagePullMaxDelay")  # 300
    node_heartbeat_interval: float = Field(default=10.0, gt=0, alias="nodeHeartbeatInterval")  # 10
    node_lease_duration: int = Field(default=40, gt=0, alias="nodeLeaseDuration")  # 40
    #: How often the kubelet samples resident memory to enforce memory limits.
    memory_check_interval: float = Field(default=0.2, gt=0, alias="memoryCheckInterval")
    #: How long a simulated container takes to start.
    simulated_start_delay: float = Field(default=0.0, ge=0, alias="simulatedStartDelay")


class Networking(_Strict):
    #: Pod IPs: each node gets a /24 of this loopback range as spec.podCIDR.
    pod_cidr: str = Field(default="127.16.0.0/12", alias="podCIDR")
    #: Service cluster IPs.
    service_cidr: str = Field(default="127.96.0.0/16", alias="serviceCIDR")


class ClusterConfig(_Strict):
    name: str
    description: str = ""
    nodes: list[NodeConfig]
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    networking: Networking = Field(default_factory=Networking)
    #: Fork Python containers from a warm process (numpy, scikit-learn imported).
    zygote: bool = True

    @model_validator(mode="after")
    def _unique_names(self) -> ClusterConfig:
        seen: set[str] = set()
        for node in self.nodes:
            for name in node.names():
                if name in seen:
                    raise ValueError(f"node name {name!r} is used twice")
                seen.add(name)
        if not seen:
            raise ValueError("a cluster needs at least one node")
        return self

    def node_names(self) -> list[str]:
        return [name for node in self.nodes for name in node.names()]


class ClusterFileError(ValueError):
    """A cluster file that does not parse or validate; the message names the field."""


def find_cluster_file(name_or_path: str | Path) -> Path:
    """``"default"`` → the shipped ``clusters/inprocess/default.yaml``; a path → itself."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise ClusterFileError(f"cluster file {path} does not exist")
        return path
    shipped = CLUSTERS_DIR / f"{name_or_path}.yaml"
    if not shipped.exists():
        known = sorted(p.stem for p in CLUSTERS_DIR.glob("*.yaml"))
        raise ClusterFileError(f"no cluster named {name_or_path!r}; known: {', '.join(known)}")
    return shipped


def load_cluster(name_or_path: str | Path = "default") -> ClusterConfig:
    path = find_cluster_file(name_or_path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ClusterFileError(f"{path}: not valid YAML: {err}") from None
    try:
        return ClusterConfig.model_validate(data)
    except ValidationError as err:
        lines = [f"{path}: invalid cluster file"]
        for problem in err.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "(top level)"
            lines.append(f"  {where}: {problem['msg']}")
        raise ClusterFileError("\n".join(lines)) from None
