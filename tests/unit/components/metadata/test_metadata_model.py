"""The data model speaks MLMD's enums and value types."""

from __future__ import annotations

import pytest

from sandbox.components.metadata import (
    INPUT_EVENT_TYPES,
    OUTPUT_EVENT_TYPES,
    Artifact,
    ArtifactBaseType,
    ArtifactState,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionBaseType,
    ExecutionState,
    PropertyType,
    ProtoValue,
    property_type_of,
)


def test_enum_names_and_numbers_are_those_of_metadata_store_proto():
    assert {m.name: m.value for m in PropertyType} == {
        "UNKNOWN": 0, "INT": 1, "DOUBLE": 2, "STRING": 3, "STRUCT": 4, "PROTO": 5, "BOOLEAN": 6,
    }
    assert {m.name: m.value for m in ArtifactState} == {
        "UNKNOWN": 0, "PENDING": 1, "LIVE": 2, "MARKED_FOR_DELETION": 3, "DELETED": 4,
        "ABANDONED": 5, "REFERENCE": 6,
    }
    assert {m.name: m.value for m in ExecutionState} == {
        "UNKNOWN": 0, "NEW": 1, "RUNNING": 2, "COMPLETE": 3, "FAILED": 4, "CACHED": 5,
        "CANCELED": 6,
    }
    assert {m.name: m.value for m in EventType} == {
        "UNKNOWN": 0, "DECLARED_OUTPUT": 1, "DECLARED_INPUT": 2, "INPUT": 3, "OUTPUT": 4,
        "INTERNAL_INPUT": 5, "INTERNAL_OUTPUT": 6, "PENDING_OUTPUT": 7,
    }
    assert {m.name: m.value for m in ArtifactBaseType} == {
        "UNSET": 0, "DATASET": 1, "MODEL": 2, "METRICS": 3, "STATISTICS": 4,
    }
    assert {m.name: m.value for m in ExecutionBaseType} == {
        "UNSET": 0, "TRAIN": 1, "TRANSFORM": 2, "PROCESS": 3, "EVALUATE": 4, "DEPLOY": 5,
    }


def test_enums_are_reachable_where_the_protos_nest_them():
    assert Artifact.State.LIVE is ArtifactState.LIVE
    assert Execution.State.CACHED is ExecutionState.CACHED
    assert Event.Type.OUTPUT is EventType.OUTPUT
    assert ArtifactType.BaseType.MODEL is ArtifactBaseType.MODEL


def test_pending_output_is_neither_a_read_nor_a_write():
    assert EventType.PENDING_OUTPUT not in INPUT_EVENT_TYPES | OUTPUT_EVENT_TYPES
    assert EventType.INPUT in INPUT_EVENT_TYPES and EventType.DECLARED_OUTPUT in OUTPUT_EVENT_TYPES


@pytest.mark.parametrize(("value", "expected"), [
    (True, PropertyType.BOOLEAN), (3, PropertyType.INT), (3.0, PropertyType.DOUBLE),
    ("x", PropertyType.STRING), ({"a": 1}, PropertyType.STRUCT), ([1], PropertyType.STRUCT),
    (ProtoValue("type.googleapis.com/x"), PropertyType.PROTO), (b"raw", PropertyType.UNKNOWN),
])
def test_the_python_type_of_a_value_is_its_property_type(value, expected):
    assert property_type_of(value) is expected


def test_an_event_path_is_a_tuple_of_keys_and_indexes_and_its_key_is_the_first_key():
    event = Event(type=3, path=[0, "examples", 1])
    assert event.path == (0, "examples", 1)
    assert event.type is EventType.INPUT
    assert event.key == "examples"
    assert Event(path=(2,)).key is None
