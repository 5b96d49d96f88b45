"""The image catalog: what an image reference runs as on this machine.

The sandbox cannot pull images; a container's process runs on the host. The
catalog (packaged ``data/catalog.yaml``, extended by the user's
``<sandbox home>/images.yaml``) says, per image or image pattern, how:

- ``kind: python`` — a Python image: a command whose program is ``python``,
  ``python3``, ``python3.X`` (or an absolute path ending in one) runs with
  *this* interpreter, which has the sandbox installed, and the zygote may
  fork it; any other command runs as given on the host;
- ``kind: host`` — a general-purpose image (busybox, alpine, ubuntu ...):
  the command runs as given with the host's executables (``sh``, ``echo``,
  ``sleep``, ``cat`` exist on any host);
- ``kind: program`` — a well-known image whose program the sandbox provides
  (KServe's sklearn server, Katib's metrics collector ...): the image's
  ``entrypoint`` is replaced by ``python -m <module>`` with this interpreter.

``entrypoint`` and ``cmd`` are the image's Docker ``ENTRYPOINT`` and ``CMD``;
:meth:`ImageEntry.command` combines them with a container's ``command`` and
``args`` by Kubernetes' rules. ``env`` is the image's ``ENV``: the kubelet
starts from it and lets the container's own ``env`` win.

Lookup: the user file before the packaged catalog; inside each, an exact
reference before patterns, patterns in file order. An image with no entry
resolves to None, and the kubelet reports ``ErrImagePull`` with
:func:`how_to_add_mapping`'s advice.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sandbox.cluster.images.reference import (
    ImageReference,
    InvalidReference,
    parse_reference,
)

__all__ = [
    "DEFAULT_CATALOG",
    "CatalogFileError",
    "ImageCatalog",
    "ImageEntry",
    "how_to_add_mapping",
    "is_python_command",
]

#: The catalog shipped with the sandbox.
DEFAULT_CATALOG = Path(__file__).resolve().parent / "data" / "catalog.yaml"

#: The PATH of Docker's official images (and of most others).
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_PYTHON_PROGRAM = re.compile(r"^python(3(\.\d+)?)?$")


def is_python_command(program: str) -> bool:
    """``python``, ``python3``, ``python3.11``, or an absolute path to one of them."""
    if "/" in program and not program.startswith("/"):
        return False
    return bool(_PYTHON_PROGRAM.match(program.rsplit("/", 1)[-1]))


class ImageEntry(BaseModel):
    """How one image (or pattern of images) runs locally."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A reference or a pattern (``python:*``), normalised like references.
    image: str
    kind: Literal["python", "host", "program"]
    #: The image's ENTRYPOINT and CMD.
    entrypoint: list[str] = Field(default_factory=list)
    cmd: list[str] = Field(default_factory=list)
    #: The image's ENV.
    env: dict[str, str] = Field(default_factory=dict)
    #: ``kind: program`` only: the sandbox module that plays the image's program.
    module: str | None = None
    description: str = ""

    @field_validator("image")
    @classmethod
    def _reference(cls, value: str) -> str:
        try:
            return str(parse_reference(value))
        except InvalidReference as err:
            raise ValueError(str(err)) from None

    @model_validator(mode="after")
    def _module_for_programs(self) -> ImageEntry:
        if (self.kind == "program") != (self.module is not None):
            raise ValueError("'module' is required for kind program and only allowed there")
        return self

    @property
    def reference(self) -> ImageReference:
        return parse_reference(self.image)

    def image_env(self) -> dict[str, str]:
        """The environment the image defines; the container's env goes on top.

        PATH defaults to the official images' PATH, with this interpreter's
        directory first for Python images, so that ``python`` inside a shell
        command is this interpreter too.
        """
        path = IMAGE_PATH
        if self.kind != "host":
            path = f"{os.path.dirname(sys.executable)}:{path}"
        return {"PATH": path, **self.env}

    def command(self, container: Mapping[str, Any]) -> tuple[list[str], bool]:
        """The argv to run for ``container`` and whether it is this Python interpreter.

        Kubernetes' rules: ``command`` replaces the ENTRYPOINT and drops the
        CMD; ``args`` alone replace the CMD and keep the ENTRYPOINT; neither
        runs ENTRYPOINT + CMD. ``command``/``args`` must already be
        ``$(VAR)``-expanded. An empty argv is returned as is (the runtime
        reports it).
        """
        command = list(container.get("command") or [])
        args = container.get("args")
        if command:
            argv = command + list(args or [])
        else:
            argv = self.entrypoint + (list(args) if args else self.cmd)
        if self.kind == "program" and (not command or command == self.entrypoint):
            return [sys.executable, "-m", str(self.module), *argv[len(self.entrypoint) :]], True
        if self.kind != "host" and argv and is_python_command(argv[0]):
            return [sys.executable, *argv[1:]], True
        return argv, False


class _CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    images: list[ImageEntry] = Field(default_factory=list)


class CatalogFileError(ValueError):
    """A catalog file that does not parse or validate; the message names file and field."""


def _load(path: Path) -> list[ImageEntry]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise CatalogFileError(f"{path}: not valid YAML: {err}") from None
    try:
        return _CatalogFile.model_validate(data).images
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise CatalogFileError(f"{path}: {problems}") from None


class ImageCatalog:
    """Resolves image references to entries: user entries first, then the packaged ones."""

    def __init__(self, sources: Sequence[Sequence[ImageEntry]]) -> None:
        #: Each source (highest precedence first) as (exact by reference, patterns).
        self._sources: list[
            tuple[dict[str, ImageEntry], list[tuple[ImageReference, ImageEntry]]]
        ] = []
        for entries in sources:
            exact: dict[str, ImageEntry] = {}
            patterns: list[tuple[ImageReference, ImageEntry]] = []
            for entry in entries:
                reference = entry.reference
                if reference.is_pattern:
                    patterns.append((reference, entry))
                else:
                    exact.setdefault(entry.image, entry)
            self._sources.append((exact, patterns))

    @classmethod
    def load(
        cls, *, user_file: Path | None = None, default_file: Path = DEFAULT_CATALOG
    ) -> ImageCatalog:
        """The packaged catalog, extended by ``user_file`` when it exists."""
        sources = [_load(default_file)]
        if user_file is not None and user_file.exists():
            sources.insert(0, _load(user_file))
        return cls(sources)

    def resolve(self, image: str) -> ImageEntry | None:
        """The entry for ``image``, or None (unknown or malformed reference)."""
        try:
            reference = parse_reference(image)
        except InvalidReference:
            return None
        for exact, patterns in self._sources:
            entry = exact.get(str(reference))
            if entry is not None:
                return entry
            for pattern, entry in patterns:
                if pattern.matches(reference):
                    return entry
        return None


def how_to_add_mapping(image: str, user_file: Path) -> str:
    """The advice an ErrImagePull event gives: why, and the YAML to add."""
    try:
        shown = str(parse_reference(image))
    except InvalidReference:
        shown = image
    return (
        f'image "{image}" is not in the sandbox\'s image catalog: the sandbox runs '
        "containers as local processes and cannot pull images. To run it, add a "
        f"mapping to {user_file}, for example:\n"
        "images:\n"
        f'  - image: "{shown}"\n'
        "    kind: python   # python: its python commands run with the sandbox's interpreter;\n"
        "                   # host: commands run as given with the host's programs\n"
        '    cmd: ["python3"]   # the image\'s CMD (and entrypoint: its ENTRYPOINT)\n'
        "See sandbox/cluster/images/data/README.md for every field."
    )
