"""Pipeline channels: the future values (task outputs, pipeline parameters) that flow between tasks.

Inside a pipeline function nothing has a value yet: ``task.output`` and the
pipeline's parameters are channels naming who produces what, with a type
string. Passing a channel to a component records a data dependency;
comparing one (``task.output == 'heads'``) builds a :class:`ConditionOperation`
for ``dsl.If``; formatting one into a string (``f'{p}-x'``) embeds a
``{{channel:task=…;name=…;type=…;}}`` pattern the compiler later replaces
with an input placeholder. ``dsl.OneOf`` picks whichever branch of an
If/Elif/Else produced its output.

The compiler renames channels that cross into a sub-DAG
``pipelinechannel--<task>-<output>`` (:func:`additional_input_name`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any

from sandbox.components.pipelines.dsl import context, types

if TYPE_CHECKING:
    from sandbox.components.pipelines.dsl.groups import ConditionBranches

__all__ = [
    "ConditionOperation",
    "OneOf",
    "PipelineArtifactChannel",
    "PipelineChannel",
    "PipelineParameterChannel",
    "additional_input_name",
    "create_pipeline_channel",
    "extract_pipeline_channels_from_any",
]

_PLACEHOLDER_TEMPLATE = "{{channel:task=%s;name=%s;type=%s;}}"
_PLACEHOLDER_REGEX = r'{{channel:task=([\w\s_-]*);name=([\w\s_-]+);type=([\w\s{}":_-]*);}}'


@dataclasses.dataclass
class ConditionOperation:
    """``left <operator> right``, maybe negated: one conjunct of a condition's trigger policy."""

    operator: str
    left_operand: Any
    right_operand: Any
    negate: bool = False


def additional_input_name(channel_or_name: PipelineChannel | str) -> str:
    """The name of the input a sub-DAG gets for a channel: ``pipelinechannel--<full name>``."""
    name = channel_or_name.full_name if isinstance(channel_or_name, PipelineChannel) else channel_or_name
    return "pipelinechannel--" + name


class PipelineChannel:
    """A future value: ``name`` (output key or parameter name), ``channel_type``, producing ``task_name``."""

    def __init__(self, name: str, channel_type: Any, task_name: str | None = None) -> None:
        if not re.match(r"^[A-Za-z][A-Za-z0-9\s_-]*$", name):
            raise ValueError('Only letters, numbers, spaces, "_", and "-" are allowed in the name. '
                             f"Must begin with a letter. Got name: {name}")
        self.name = name
        self.channel_type = channel_type
        self.task_name = task_name or None
        self.pipeline = context.get_default_pipeline()

    @property
    def task(self) -> Any:
        """The producing task, or the group (If/Elif/Else branches, loop) that surfaces the value."""
        if self.task_name is None or self.pipeline is None:
            return None
        if self.task_name in self.pipeline.tasks:
            return self.pipeline.tasks[self.task_name]
        from sandbox.components.pipelines.dsl.groups import all_groups

        for group in all_groups(self.pipeline.groups[0])[1:]:
            if group.name == self.task_name:
                return group
        raise ValueError(f"PipelineChannel task name '{self.task_name}' not found in pipeline.")

    @property
    def full_name(self) -> str:
        return f"{self.task_name}-{self.name}" if self.task_name else self.name

    @property
    def pattern(self) -> str:
        return str(self)

    def _pattern(self) -> str:
        channel_type = self.channel_type or ""
        if isinstance(channel_type, dict):
            channel_type = json.dumps(channel_type)
        return _PLACEHOLDER_TEMPLATE % (self.task_name or "", self.name, channel_type)

    def __str__(self) -> str:
        return self._pattern()

    def __repr__(self) -> str:
        return str(self)

    def __hash__(self) -> int:
        return hash(self.pattern)

    # Comparisons build condition operations for dsl.If (as in kfp, == is not equality).
    def __eq__(self, other: Any) -> ConditionOperation:  # type: ignore[override]
        return ConditionOperation("==", self, other)

    def __ne__(self, other: Any) -> ConditionOperation:  # type: ignore[override]
        return ConditionOperation("!=", self, other)

    def __lt__(self, other: Any) -> ConditionOperation:
        return ConditionOperation("<", self, other)

    def __le__(self, other: Any) -> ConditionOperation:
        return ConditionOperation("<=", self, other)

    def __gt__(self, other: Any) -> ConditionOperation:
        return ConditionOperation(">", self, other)

    def __ge__(self, other: Any) -> ConditionOperation:
        return ConditionOperation(">=", self, other)


class PipelineParameterChannel(PipelineChannel):
    """A parameter (string, number, bool, list, dict) channel."""

    def __init__(self, name: str, channel_type: Any, task_name: str | None = None, value: Any = None) -> None:
        if task_name and value:
            raise ValueError("task_name and value cannot be both set.")
        if not types.is_parameter_type(channel_type):
            raise TypeError(f"{channel_type} is not a parameter type.")
        self.value = value
        super().__init__(name=name, channel_type=channel_type, task_name=task_name)


class PipelineArtifactChannel(PipelineChannel):
    """An artifact channel (a single artifact, or a list of them)."""

    def __init__(self, name: str, channel_type: Any, task_name: str | None, is_artifact_list: bool) -> None:
        if types.is_parameter_type(channel_type):
            raise TypeError(f"{channel_type} is not an artifact type.")
        self.is_artifact_list = is_artifact_list
        super().__init__(name=name, channel_type=channel_type, task_name=task_name)


class OneOfMixin(PipelineChannel):
    """What OneOfParameter and OneOfArtifact share: the If/Elif/Else group that surfaces them."""

    channels: list[PipelineChannel]
    condition_branches_group: ConditionBranches

    def _set_condition_branches_group(self, channels: list[PipelineChannel]) -> None:
        self.condition_branches_group = channels[0].task.parent_task_group.parent_task_group

    def _make_oneof_name(self) -> str:
        group = self.condition_branches_group
        return additional_input_name(f"{group.name}-oneof-{group.get_oneof_id()}")

    def _validate_channels(self, channels: list[PipelineChannel]) -> None:
        from sandbox.components.pipelines.dsl.groups import Else
        from sandbox.components.pipelines.dsl.loops import Collected

        if any(isinstance(channel, Collected) for channel in channels):
            raise ValueError("dsl.Collected cannot be used inside of dsl.OneOf.")
        if any(isinstance(channel, OneOfMixin) for channel in channels):
            raise ValueError("dsl.OneOf cannot be used inside of another dsl.OneOf.")
        first_kind = PipelineParameterChannel if isinstance(channels[0], PipelineParameterChannel) \
            else PipelineArtifactChannel
        if not all(isinstance(channel, first_kind) for channel in channels):
            raise TypeError("Task outputs passed to dsl.OneOf must be the same type. Found a mix of "
                            "parameters and artifacts passed to dsl.OneOf.")
        if not isinstance(self.condition_branches_group.groups[-1], Else):
            raise ValueError("dsl.OneOf must include an output from a task in a dsl.Else group to ensure at "
                             "least one output is available at runtime.")

    def __str__(self) -> str:
        raise NotImplementedError("dsl.OneOf does not support string interpolation.")

    @property
    def pattern(self) -> str:
        return self._pattern()

    def __hash__(self) -> int:
        return hash(self.pattern)


class OneOfParameter(PipelineParameterChannel, OneOfMixin):
    """A OneOf over parameter outputs."""

    def __init__(self, channels: list[PipelineParameterChannel]) -> None:
        self.channels = list(channels)
        self._set_condition_branches_group(channels)
        super().__init__(name=self._make_oneof_name(), channel_type=channels[0].channel_type, task_name=None)
        self.task_name = self.condition_branches_group.name
        self._validate_channels(channels)
        expected = channels[0].channel_type
        for i, channel in enumerate(channels[1:], start=1):
            if channel.channel_type != expected:
                raise TypeError("Task outputs passed to dsl.OneOf must be the same type. Got two channels with "
                                f"different types: {expected} at index 0 and {channel.channel_type} at index {i}.")


class OneOfArtifact(PipelineArtifactChannel, OneOfMixin):
    """A OneOf over artifact outputs."""

    def __init__(self, channels: list[PipelineArtifactChannel]) -> None:
        self.channels = list(channels)
        self._set_condition_branches_group(channels)
        super().__init__(name=self._make_oneof_name(), channel_type=channels[0].channel_type, task_name=None,
                         is_artifact_list=channels[0].is_artifact_list)
        self.task_name = self.condition_branches_group.name
        self._validate_channels(channels)
        expected, expected_list = channels[0].channel_type, channels[0].is_artifact_list
        for i, channel in enumerate(channels[1:], start=1):
            if channel.channel_type != expected or channel.is_artifact_list != expected_list:
                raise TypeError("Task outputs passed to dsl.OneOf must be the same type. Got two channels with "
                                f"different types: {expected} at index 0 and {channel.channel_type} at index {i}.")


class OneOf:
    """The output of whichever If/Elif/Else branch ran: ``dsl.OneOf(t1.output, t2.output)``."""

    def __new__(cls, *channels: PipelineChannel) -> Any:  # type: ignore[misc]
        first = channels[0]
        if isinstance(first, PipelineParameterChannel):
            return OneOfParameter(channels=list(channels))  # type: ignore[arg-type]
        if isinstance(first, PipelineArtifactChannel):
            return OneOfArtifact(channels=list(channels))  # type: ignore[arg-type]
        raise ValueError(f"Got unknown input to dsl.OneOf with type {type(first)}.")


def create_pipeline_channel(name: str, channel_type: Any, task_name: str | None = None, value: Any = None,
                            is_artifact_list: bool = False) -> PipelineChannel:
    """A parameter or artifact channel, by type."""
    if types.is_parameter_type(channel_type):
        return PipelineParameterChannel(name=name, channel_type=channel_type, task_name=task_name, value=value)
    return PipelineArtifactChannel(name=name, channel_type=channel_type, task_name=task_name,
                                   is_artifact_list=is_artifact_list)


def extract_pipeline_channels_from_string(payload: str) -> list[PipelineChannel]:
    """The channels whose patterns appear in ``payload`` (f-strings over channels), deduplicated."""
    unique: set[PipelineChannel] = set()
    for task_name, name, channel_type in re.findall(_PLACEHOLDER_REGEX, payload):
        with contextlib.suppress(json.JSONDecodeError):
            channel_type = json.loads(channel_type)
        if types.is_parameter_type(channel_type):
            unique.add(PipelineParameterChannel(name=name, channel_type=channel_type, task_name=task_name))
        else:
            unique.add(PipelineArtifactChannel(name=name, channel_type=channel_type, task_name=task_name,
                                               is_artifact_list=False))
    return list(unique)


def extract_pipeline_channels_from_any(payload: Any) -> list[PipelineChannel]:
    """The channels in a value: itself, patterns in strings, recursively in lists, tuples and dicts."""
    if isinstance(payload, PipelineChannel):
        return [payload]
    if not payload:
        return []
    if isinstance(payload, str):
        return list(set(extract_pipeline_channels_from_string(payload)))
    if isinstance(payload, list | tuple):
        found: list[PipelineChannel] = []
        for item in payload:
            found += extract_pipeline_channels_from_any(item)
        return list(set(found))
    if isinstance(payload, dict):
        found = []
        for key, value in payload.items():
            found += extract_pipeline_channels_from_any(key)
            found += extract_pipeline_channels_from_any(value)
        return list(set(found))
    return []
