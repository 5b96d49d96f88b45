"""Container placeholders: the ``{{$.inputs.parameters['x']}}`` strings a container component's command uses.

A ``@container_component`` function is called once at definition time with
placeholder objects instead of values; the ``ContainerSpec`` it returns
therefore holds placeholders, which serialise to the IR's placeholder
strings (``{{$.outputs.artifacts['m'].path}}``) or, for ``ConcatPlaceholder``
and ``IfPresentPlaceholder``, to their JSON form. The workflow controller
resolves them per task at run time; the strings are exactly kfp's so the IR
runs on real Kubeflow too.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "ConcatPlaceholder",
    "IfPresentPlaceholder",
    "InputListOfArtifactsPlaceholder",
    "InputMetadataPlaceholder",
    "InputPathPlaceholder",
    "InputUriPlaceholder",
    "InputValuePlaceholder",
    "OutputListOfArtifactsPlaceholder",
    "OutputMetadataPlaceholder",
    "OutputParameterPlaceholder",
    "OutputPathPlaceholder",
    "OutputUriPlaceholder",
    "Placeholder",
]


class Placeholder:
    """A value known only at run time, rendered as a placeholder string."""

    def _to_string(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        # Lets placeholders be used in f-strings.
        return self._to_string()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, self.__class__) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(self._to_string())


class InputValuePlaceholder(Placeholder):
    def __init__(self, input_name: str) -> None:
        self.input_name = input_name

    def _to_string(self) -> str:
        return f"{{{{$.inputs.parameters['{self.input_name}']}}}}"


class _ListOfArtifactsPlaceholder(Placeholder):
    _io = "inputs"

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _to_string(self) -> str:
        return f"{{{{$.{self._io}.artifacts['{self._name}']}}}}"

    def __getattribute__(self, name: str) -> Any:
        if name in {"name", "uri", "metadata", "path"}:
            raise AttributeError(
                "Cannot access an attribute on a list of artifacts in a Custom Container Component. "
                f"Found reference to attribute {name!r} on {object.__getattribute__(self, '_name')!r}. "
                "Please pass the whole list of artifacts only.")
        return object.__getattribute__(self, name)

    def __getitem__(self, k: int) -> None:
        raise KeyError(f"Cannot access individual artifacts in a list of artifacts. Found access to element "
                       f"{k} on {self._name!r}. Please pass the whole list of artifacts only.")


class InputListOfArtifactsPlaceholder(_ListOfArtifactsPlaceholder):
    _io = "inputs"

    @property
    def input_name(self) -> str:
        return self._name


class OutputListOfArtifactsPlaceholder(_ListOfArtifactsPlaceholder):
    _io = "outputs"

    @property
    def output_name(self) -> str:
        return self._name


class _NamedPlaceholder(Placeholder):
    """A placeholder for one input's or output's ``path``/``uri``/``metadata``/``output_file``.

    Subclasses only say which: ``_io`` (``inputs``/``outputs``), ``_section``
    (``artifacts``/``parameters``) and ``_field``. The name is kfp's
    ``input_name`` or ``output_name``, as the placeholder's side says.
    """

    _io = "inputs"
    _section = "artifacts"
    _field = "path"

    def __init__(self, name: str) -> None:
        setattr(self, "input_name" if self._io == "inputs" else "output_name", name)
        self._name = name

    def _to_string(self) -> str:
        return f"{{{{$.{self._io}.{self._section}['{self._name}'].{self._field}}}}}"


class _MetadataPlaceholder(_NamedPlaceholder):
    _field = "metadata"

    def __getitem__(self, key: str) -> str:
        return f"{{{{$.{self._io}.artifacts['{self._name}'].metadata['{key}']}}}}"


class InputPathPlaceholder(_NamedPlaceholder):
    pass


class InputUriPlaceholder(_NamedPlaceholder):
    _field = "uri"


class InputMetadataPlaceholder(_MetadataPlaceholder):
    pass


class OutputParameterPlaceholder(_NamedPlaceholder):
    _io, _section, _field = "outputs", "parameters", "output_file"


class OutputPathPlaceholder(_NamedPlaceholder):
    _io = "outputs"


class OutputUriPlaceholder(_NamedPlaceholder):
    _io, _field = "outputs", "uri"


class OutputMetadataPlaceholder(_MetadataPlaceholder):
    _io = "outputs"


CommandLineElement = str | Placeholder


class ConcatPlaceholder(Placeholder):
    """Concatenates strings and placeholders into one command-line element."""

    def __init__(self, items: list[CommandLineElement]) -> None:
        for item in items:
            if isinstance(item, IfPresentPlaceholder):
                item._validate_single_elements()
        self.items = items

    def _to_dict(self) -> dict[str, Any]:
        return {"Concat": [to_string_or_struct(item) for item in self.items]}

    def _to_string(self) -> str:
        return json.dumps(self._to_dict())

    def __str__(self) -> str:
        raise ValueError(f"Cannot use {self.__class__.__name__} in an f-string.")

    def __hash__(self) -> int:
        return hash(self._to_string())


class IfPresentPlaceholder(Placeholder):
    """``then`` when the optional input ``input_name`` is given, else ``else_``."""

    def __init__(self, input_name: str, then: CommandLineElement | list[CommandLineElement],
                 else_: CommandLineElement | list[CommandLineElement] | None = None) -> None:
        self.input_name = input_name
        self.then = then
        self.else_ = else_

    def _validate_single_elements(self) -> None:
        # Inside a ConcatPlaceholder, then/else_ must be single elements (recursively).
        if isinstance(self.then, list) or isinstance(self.else_, list):
            raise ValueError(
                f"Cannot use {IfPresentPlaceholder.__name__} within {ConcatPlaceholder.__name__} when `then` "
                f"and `else_` arguments to {IfPresentPlaceholder.__name__} are lists. Please use a single "
                "element for `then` and `else_` only.")
        for branch in (self.then, self.else_):
            if isinstance(branch, ConcatPlaceholder):
                for item in branch.items:
                    if isinstance(item, IfPresentPlaceholder):
                        item._validate_single_elements()
            elif isinstance(branch, IfPresentPlaceholder):
                branch._validate_single_elements()

    @staticmethod
    def _branch(value: Any) -> Any:
        if isinstance(value, list):
            return [to_string_or_struct(e) for e in value]
        return to_string_or_struct(value)

    def _to_dict(self) -> dict[str, Any]:
        struct: dict[str, Any] = {"IfPresent": {"InputName": self.input_name, "Then": self._branch(self.then)}}
        if self.else_:
            struct["IfPresent"]["Else"] = self._branch(self.else_)
        return struct

    def _to_string(self) -> str:
        return json.dumps(self._to_dict())

    def __str__(self) -> str:
        raise ValueError(f"Cannot use {self.__class__.__name__} in an f-string.")

    def __hash__(self) -> int:
        return hash(self._to_string())


PRIMITIVE_INPUT_PLACEHOLDERS = (InputValuePlaceholder, InputPathPlaceholder, InputUriPlaceholder,
                                InputMetadataPlaceholder, InputListOfArtifactsPlaceholder)
PRIMITIVE_OUTPUT_PLACEHOLDERS = (OutputParameterPlaceholder, OutputPathPlaceholder, OutputUriPlaceholder,
                                 OutputMetadataPlaceholder, OutputListOfArtifactsPlaceholder)


def to_string(element: CommandLineElement) -> str:
    return element._to_string() if isinstance(element, Placeholder) else element


def to_string_or_struct(element: Any) -> Any:
    if isinstance(element, ConcatPlaceholder | IfPresentPlaceholder):
        return element._to_dict()
    if isinstance(element, Placeholder):
        return element._to_string()
    return element
