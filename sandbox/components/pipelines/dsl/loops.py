"""ParallelFor's loop variables and ``dsl.Collected``.

``with dsl.ParallelFor(items) as item`` binds ``item`` to a loop argument
channel: over a literal list it is named ``loop-item-param-<group id>``; over
a pipeline parameter or task output ``<channel name>-loop-item``. Its type is
the list's item type when known (``List[int]`` → ``int``), ``'String'``
otherwise. ``item.a`` is a :class:`LoopArgumentVariable` — the compiler turns
it into ``parseJson(string_value)["a"]``. ``dsl.Collected(t.output)`` fans the
outputs of a task inside a loop back in as one list.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.components.pipelines.dsl import types
from sandbox.components.pipelines.dsl.channels import (
    OneOfMixin,
    PipelineArtifactChannel,
    PipelineChannel,
    PipelineParameterChannel,
)

__all__ = ["Collected", "LoopArgumentVariable", "LoopArtifactArgument", "LoopParameterArgument"]

LOOP_ITEM_NAME_BASE = "loop-item"
LOOP_ITEM_PARAM_NAME_BASE = "loop-item-param"


def _loop_item_type(type_name: str) -> str | None:
    """``List[str]`` → ``str``; ``List`` → None."""
    match = re.match(r"(typing\.)?(?:\w+)(?:\[(?P<item_type>.+)\])", type_name)
    return match["item_type"].strip() if match else None


def _subvar_type(type_name: str) -> str | None:
    """``Dict[str, int]`` → ``int``."""
    match = re.match(r"(typing\.)?(?:\w+)(?:\[\s*(?:\w+)\s*,\s*(?P<value_type>.+)\])", type_name)
    return match["value_type"].strip() if match else None


def _first_element_type(items: list[Any]) -> str:
    first = items[0]
    if isinstance(first, dict):
        key_type = type(next(iter(first.keys()))).__name__
        value_type = type(next(iter(first.values()))).__name__
        return f"Dict[{key_type}, {value_type}]"
    return type(first).__name__


class LoopParameterArgument(PipelineParameterChannel):
    """The loop variable of a ParallelFor over parameters; ``.field`` gives sub-variables."""

    def __init__(self, items: Any, *, name_code: str | None = None, name_override: str | None = None,
                 **kwargs: Any) -> None:
        if (name_code is None) == (name_override is None):
            raise ValueError("Expect one and only one of `name_code` and `name_override` to be specified.")
        name = f"{LOOP_ITEM_PARAM_NAME_BASE}-{name_code}" if name_override is None else name_override
        super().__init__(name=name, **kwargs)
        if not isinstance(items, list | tuple | PipelineParameterChannel):
            raise TypeError(f"Expected list, tuple, or PipelineParameterChannel, got {items}.")
        if isinstance(items, tuple):
            items = list(items)
        self.items_or_pipeline_channel = items
        self.is_with_items_loop_argument = not isinstance(items, PipelineParameterChannel)
        self._referenced_subvars: dict[str, LoopArgumentVariable] = {}
        if isinstance(items, list) and isinstance(items[0], dict):
            for subvar_name in set(items[0].keys()):
                variable = LoopArgumentVariable(loop_argument=self, subvar_name=subvar_name)
                self._referenced_subvars[subvar_name] = variable
                setattr(self, subvar_name, variable)

    def __getattr__(self, name: str) -> LoopArgumentVariable:
        # Only called for attributes not found normally: ``item.a`` on any loop argument.
        if name.startswith("__") or name == "_referenced_subvars":
            raise AttributeError(name)
        return self._referenced_subvars.setdefault(name, LoopArgumentVariable(loop_argument=self, subvar_name=name))

    @classmethod
    def from_pipeline_channel(cls, channel: PipelineParameterChannel) -> LoopParameterArgument:
        if not isinstance(channel, LoopArgumentVariable):
            type_name = types.short_type_name(channel.channel_type)
            if types.PARAMETER_TYPES_MAPPING[type_name.lower()] != "LIST":
                raise ValueError("Cannot iterate over a single parameter using `dsl.ParallelFor`. "
                                 "Expected a list of parameters as argument to `items`.")
        return LoopParameterArgument(items=channel, name_override=f"{channel.name}-{LOOP_ITEM_NAME_BASE}",
                                     task_name=channel.task_name,
                                     channel_type=_loop_item_type(channel.channel_type) or "String")

    @classmethod
    def from_raw_items(cls, raw_items: list[Any], name_code: str) -> LoopParameterArgument:
        if len(raw_items) == 0:
            raise ValueError("Got an empty item list for loop argument.")
        return LoopParameterArgument(items=raw_items, name_code=name_code,
                                     channel_type=_first_element_type(raw_items))


class LoopArtifactArgument(PipelineArtifactChannel):
    """The loop variable of a ParallelFor over a list of artifacts."""

    def __init__(self, items: PipelineArtifactChannel, *, name_code: str | None = None,
                 name_override: str | None = None, **kwargs: Any) -> None:
        if (name_code is None) == (name_override is None):
            raise ValueError("Expect one and only one of `name_code` and `name_override` to be specified.")
        name = f"{LOOP_ITEM_PARAM_NAME_BASE}-{name_code}" if name_override is None else name_override
        super().__init__(name=name, is_artifact_list=False, **kwargs)
        self.items_or_pipeline_channel = items
        self.is_with_items_loop_argument = not isinstance(items, PipelineArtifactChannel)

    @classmethod
    def from_pipeline_channel(cls, channel: PipelineArtifactChannel) -> LoopArtifactArgument:
        if not channel.is_artifact_list:
            raise ValueError("Cannot iterate over a single artifact using `dsl.ParallelFor`. "
                             "Expected a list of artifacts as argument to `items`.")
        return LoopArtifactArgument(items=channel, name_override=f"{channel.name}-{LOOP_ITEM_NAME_BASE}",
                                    task_name=channel.task_name, channel_type=channel.channel_type)


class LoopArgumentVariable(PipelineParameterChannel):
    """A field of the loop item (``item.a`` when looping over dicts)."""

    SUBVAR_NAME_DELIMITER = "-subvar-"
    LEGAL_SUBVAR_NAME_REGEX = re.compile(r"^[a-zA-Z_][0-9a-zA-Z_]*$")

    def __init__(self, loop_argument: LoopParameterArgument, subvar_name: str) -> None:
        if not self.LEGAL_SUBVAR_NAME_REGEX.match(subvar_name):
            raise ValueError(f"Tried to create subvariable named {subvar_name}, but that is not a legal "
                             "Python variable name.")
        self.subvar_name = subvar_name
        self.loop_argument = loop_argument
        super().__init__(name=f"{loop_argument.name}{self.SUBVAR_NAME_DELIMITER}{subvar_name}",
                         task_name=loop_argument.task_name,
                         channel_type=_subvar_type(loop_argument.channel_type) or "String")

    @property
    def items_or_pipeline_channel(self) -> Any:
        return self.loop_argument.items_or_pipeline_channel

    @property
    def is_with_items_loop_argument(self) -> bool:
        return self.loop_argument.is_with_items_loop_argument


class Collected(PipelineChannel):
    """The outputs of a task inside a ParallelFor, fanned in as a list for a task outside it."""

    def __init__(self, output: PipelineChannel) -> None:
        self.output = output
        if isinstance(output, PipelineArtifactChannel):
            channel_type = output.channel_type
            self.is_artifact_channel = True
            self.is_artifact_list = True
        else:
            channel_type = "LIST"
            self.is_artifact_channel = False
            self.is_artifact_list = False
        super().__init__(output.name, channel_type=channel_type, task_name=output.task_name)
        if isinstance(output, OneOfMixin):
            raise ValueError("dsl.OneOf cannot be used inside of dsl.Collected.")
