"""Image references, normalised the way a container runtime reads them.

``python``, ``python:latest``, ``docker.io/library/python:latest`` and
``index.docker.io/library/python`` all name one image; the catalog must see
them as one. :func:`parse_reference` splits a reference into name, tag and
digest with Docker's rules:

- the first path component is a registry when it contains ``.`` or ``:`` or
  is ``localhost``; Docker Hub's names for itself are dropped, and so is its
  implicit ``library/`` namespace (``docker.io/library/x`` ≡ ``x``);
- a missing tag means ``latest`` unless a digest (``@sha256:…``) pins the image;
- a tag is what follows the last ``:`` after the last ``/`` (so a registry
  port is never a tag).

Catalog patterns are parsed by the same rules, with shell-style wildcards
allowed (``python:*``, ``kubeflow/*:v1*``); :meth:`ImageReference.matches`
compares a pattern with a reference part by part. A ``*`` tag also matches a
reference pinned by digest only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

__all__ = ["ImageReference", "InvalidReference", "parse_reference"]

_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io"}
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F*?\[\]]{1,}$")
_WILDCARDS = re.compile(r"[*?\[]")


class InvalidReference(ValueError):
    """Not an image reference: Kubernetes answers InvalidImageName."""


@dataclass(frozen=True)
class ImageReference:
    name: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def is_pattern(self) -> bool:
        return bool(_WILDCARDS.search(str(self)))

    def matches(self, reference: ImageReference) -> bool:
        """Whether this (pattern) reference covers ``reference``."""
        if not fnmatchcase(reference.name, self.name):
            return False
        if self.tag is not None:
            if reference.tag is None:
                if self.tag != "*":
                    return False
            elif not fnmatchcase(reference.tag, self.tag):
                return False
        if self.digest is not None:
            return reference.digest is not None and fnmatchcase(reference.digest, self.digest)
        return True


def parse_reference(text: str) -> ImageReference:
    """The normalised reference (see the module docstring); raises :class:`InvalidReference`."""
    raw = text.strip()
    if not raw or any(c.isspace() for c in raw):
        raise InvalidReference(f'invalid reference format: "{text}"')
    remainder, _, digest = raw.partition("@")
    if "@" in raw and not _DIGEST.match(digest):
        raise InvalidReference(f'invalid reference format: "{text}"')
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    tag: str | None = None
    if colon > slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not tag:
            raise InvalidReference(f'invalid reference format: "{text}"')
    parts = remainder.split("/")
    # Docker Hub's own names are the only registries that can be dropped.
    if len(parts) > 1 and parts[0] in _DOCKER_HUB:
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    name = "/".join(parts)
    if not name or any(not part for part in parts):
        raise InvalidReference(f'invalid reference format: "{text}"')
    if name != name.lower():
        raise InvalidReference(
            f'invalid reference format: repository name must be lowercase: "{text}"'
        )
    if tag is None and not digest:
        tag = "latest"
    return ImageReference(name=name, tag=tag, digest=digest or None)
