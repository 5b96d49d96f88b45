"""The ML Metadata (MLMD) data model, as plain Python values.

MLMD records *what happened* in an ML system as a graph:

* **nodes** — :class:`Artifact` (a file or directory a step read or wrote,
  named by ``uri``), :class:`Execution` (one run of one step) and
  :class:`Context` (a group: a pipeline, one run of it);
* **edges** — :class:`Event` (an execution read or wrote an artifact, with the
  name it used for it in ``path``), :class:`Attribution` (artifact ∈ context),
  :class:`Association` (execution ∈ context) and :class:`ParentContext`
  (context ⊂ context: a run belongs to its pipeline);
* **types** — every node has one: :class:`ArtifactType`, :class:`ExecutionType`,
  :class:`ContextType`, each a name (unique per kind and version) with a schema
  of declared ``properties``.

Names, fields, enum members and enum numbers are those of MLMD's
``ml_metadata/proto/metadata_store.proto``, so what the sandbox stores reads the
same as what a real Kubeflow stores (``Artifact.State.LIVE == 2``,
``Event.Type.OUTPUT == 4``). What is Pythonic instead of protobuf:

* property values are plain Python values whose Python type *is* the MLMD
  value type — ``int`` ↔ ``int_value``, ``float`` ↔ ``double_value``, ``str`` ↔
  ``string_value``, ``bool`` ↔ ``bool_value``, ``dict``/``list`` (JSON) ↔
  ``struct_value``, :class:`ProtoValue` ↔ ``proto_value`` — so they round-trip
  through the store unchanged (``1.0`` stays a float, ``True`` stays a bool).
  ``None`` means "no value": such a key is not stored.
* a node may name its type by ``type`` (the type's name) instead of
  ``type_id``; the store fills in both.
* an event's ``path`` is a tuple of steps, ``str`` for a key and ``int`` for an
  index: ``("examples", 0)`` is MLMD's ``{steps: [{key: "examples"}, {index: 0}]}``.

This module is data only: :mod:`.store` validates and persists these values.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, TypeAlias

__all__ = [
    "INPUT_EVENT_TYPES",
    "OUTPUT_EVENT_TYPES",
    "Artifact",
    "ArtifactBaseType",
    "ArtifactState",
    "ArtifactType",
    "Association",
    "Attribution",
    "Context",
    "ContextBaseType",
    "ContextType",
    "Event",
    "EventType",
    "Execution",
    "ExecutionBaseType",
    "ExecutionState",
    "ExecutionType",
    "ParentContext",
    "PropertyType",
    "PropertyValue",
    "ProtoValue",
    "property_type_of",
]


class PropertyType(IntEnum):
    """The value type a type declares for a property (MLMD ``PropertyType``)."""

    UNKNOWN = 0
    INT = 1
    DOUBLE = 2
    STRING = 3
    STRUCT = 4
    PROTO = 5
    BOOLEAN = 6


class ArtifactState(IntEnum):
    """``Artifact.State``: what the system knows about the physical artifact."""

    UNKNOWN = 0
    PENDING = 1
    LIVE = 2
    MARKED_FOR_DELETION = 3
    DELETED = 4
    ABANDONED = 5
    REFERENCE = 6


class ExecutionState(IntEnum):
    """``Execution.State``: NEW → RUNNING → COMPLETE | CACHED | FAILED | CANCELED."""

    UNKNOWN = 0
    NEW = 1
    RUNNING = 2
    COMPLETE = 3
    FAILED = 4
    CACHED = 5
    CANCELED = 6


class EventType(IntEnum):
    """``Event.Type``: how an execution touched an artifact."""

    UNKNOWN = 0
    DECLARED_OUTPUT = 1
    DECLARED_INPUT = 2
    INPUT = 3
    OUTPUT = 4
    INTERNAL_INPUT = 5
    INTERNAL_OUTPUT = 6
    PENDING_OUTPUT = 7


#: Event types that mean "the execution read this artifact" (lineage follows them).
INPUT_EVENT_TYPES = frozenset({EventType.DECLARED_INPUT, EventType.INPUT, EventType.INTERNAL_INPUT})
#: Event types that mean "the execution wrote this artifact". ``PENDING_OUTPUT``
#: is not one: the execution has not finalised it.
OUTPUT_EVENT_TYPES = frozenset(
    {EventType.DECLARED_OUTPUT, EventType.OUTPUT, EventType.INTERNAL_OUTPUT}
)


class ArtifactBaseType(IntEnum):
    """``ArtifactType.SystemDefinedBaseType`` (``mlmd.Dataset`` …)."""

    UNSET = 0
    DATASET = 1
    MODEL = 2
    METRICS = 3
    STATISTICS = 4


class ExecutionBaseType(IntEnum):
    """``ExecutionType.SystemDefinedBaseType`` (``mlmd.Train`` …)."""

    UNSET = 0
    TRAIN = 1
    TRANSFORM = 2
    PROCESS = 3
    EVALUATE = 4
    DEPLOY = 5


class ContextBaseType(IntEnum):
    """``ContextType.SystemDefinedBaseType``: MLMD defines none yet."""

    UNSET = 0


@dataclass(frozen=True)
class ProtoValue:
    """A ``proto_value``: a serialised protobuf message, as ``google.protobuf.Any``."""

    type_url: str
    value: bytes = b""


PropertyValue: TypeAlias = int | float | str | bool | dict[str, Any] | list[Any] | ProtoValue


def property_type_of(value: Any) -> PropertyType:
    """The MLMD value type a Python value is stored as; ``UNKNOWN`` if none fits."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return PropertyType.BOOLEAN
    if isinstance(value, int):
        return PropertyType.INT
    if isinstance(value, float):
        return PropertyType.DOUBLE
    if isinstance(value, str):
        return PropertyType.STRING
    if isinstance(value, (dict, list)):
        return PropertyType.STRUCT
    if isinstance(value, ProtoValue):
        return PropertyType.PROTO
    return PropertyType.UNKNOWN


# Types ----------------------------------------------------------------------


@dataclass
class _Type:
    name: str
    _: KW_ONLY
    properties: dict[str, PropertyType] = field(default_factory=dict)
    #: An empty version is the same as no version (MLMD).
    version: str | None = None
    description: str | None = None
    external_id: str | None = None
    id: int | None = None


@dataclass
class ArtifactType(_Type):
    """The type of artifacts (``system.Model``); ``name`` is unique per version."""

    base_type: ArtifactBaseType | None = None
    BaseType: ClassVar[type[ArtifactBaseType]] = ArtifactBaseType


@dataclass
class ExecutionType(_Type):
    """The type of executions (``system.ContainerExecution``)."""

    base_type: ExecutionBaseType | None = None
    BaseType: ClassVar[type[ExecutionBaseType]] = ExecutionBaseType


@dataclass
class ContextType(_Type):
    """The type of contexts (``system.PipelineRun``)."""

    base_type: ContextBaseType | None = None
    BaseType: ClassVar[type[ContextBaseType]] = ContextBaseType


# Nodes ----------------------------------------------------------------------


@dataclass(kw_only=True)
class _Node:
    #: Assigned by the store on first put; set it to update an existing node.
    id: int | None = None
    #: Optional for artifacts and executions, required for contexts; unique per
    #: type, and fixed once set.
    name: str | None = None
    type_id: int | None = None
    #: The type's name: enough to create a node of an unversioned type.
    type: str | None = None
    #: The client system's id; unique among nodes of one kind.
    external_id: str | None = None
    #: Values of properties the type declares.
    properties: dict[str, Any] = field(default_factory=dict)
    #: Any other values.
    custom_properties: dict[str, Any] = field(default_factory=dict)
    #: Milliseconds since the epoch, set by the store.
    create_time_since_epoch: int | None = None
    last_update_time_since_epoch: int | None = None


@dataclass(kw_only=True)
class Artifact(_Node):
    """A file or directory some execution read or wrote."""

    uri: str | None = None
    state: ArtifactState = ArtifactState.UNKNOWN
    State: ClassVar[type[ArtifactState]] = ArtifactState


@dataclass(kw_only=True)
class Execution(_Node):
    """One run of one step (a component, a DAG, an importer)."""

    last_known_state: ExecutionState = ExecutionState.UNKNOWN
    State: ClassVar[type[ExecutionState]] = ExecutionState


@dataclass(kw_only=True)
class Context(_Node):
    """A group of artifacts and executions: a pipeline, a run, an experiment."""


# Edges ----------------------------------------------------------------------


@dataclass(kw_only=True)
class Event:
    """An execution read (``INPUT``) or wrote (``OUTPUT``) an artifact.

    At most one event exists per ``(artifact_id, execution_id, type)``.
    ``path`` names the artifact as the execution saw it: KFP puts the input or
    output name there as a single key step.
    """

    artifact_id: int | None = None
    execution_id: int | None = None
    type: EventType = EventType.UNKNOWN
    path: tuple[str | int, ...] = ()
    #: Set by the store when left unset.
    milliseconds_since_epoch: int | None = None
    Type: ClassVar[type[EventType]] = EventType

    def __post_init__(self) -> None:
        self.path = tuple(self.path)
        self.type = EventType(self.type)

    @property
    def key(self) -> str | None:
        """The first key step of the path: the name KFP gives the artifact."""
        return next((step for step in self.path if isinstance(step, str)), None)


@dataclass(frozen=True)
class Attribution:
    """The artifact belongs to the context."""

    artifact_id: int
    context_id: int


@dataclass(frozen=True)
class Association:
    """The execution belongs to the context."""

    execution_id: int
    context_id: int


@dataclass(frozen=True)
class ParentContext:
    """The child context is part of the parent (a run of a pipeline)."""

    child_id: int
    parent_id: int
