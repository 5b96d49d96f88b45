"""Image "pulls": an image reference resolved through the catalog, failing like Kubernetes.

The sandbox never fetches an image; "pulling" is looking the reference up
in the image catalog (:mod:`sandbox.cluster.images`). ``imagePullPolicy``
is recorded in the spec and changes nothing: a known image is always
"already present on machine" (the ``Pulled`` event says so), an unknown one
is never found. That failure follows the kubelet's image manager:

- a reference that does not parse: waiting reason ``InvalidImageName``;
- an unknown reference: ``ErrImagePull`` with a ``Failed`` Warning event
  (``Failed to pull image "x": ...`` plus how to add a catalog mapping),
  then ``ImagePullBackOff`` (``Back-off pulling image "x"``) while the
  back-off runs, retried after ``image_pull_base_delay`` doubling up to
  ``image_pull_max_delay``, per pod and image as in Kubernetes.

:class:`ImagePuller` answers one attempt at a time; the pod worker shows
the outcome in the container's status and events and waits the delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sandbox.cluster.images.catalog import ImageCatalog, ImageEntry, how_to_add_mapping
from sandbox.cluster.images.reference import InvalidReference, parse_reference
from sandbox.cluster.kubelet.backoff import Backoff

__all__ = ["ImagePuller", "PullFailure", "image_id"]


@dataclass(frozen=True)
class PullFailure:
    """Why an image cannot be used: the waiting reason and Kubernetes' message."""

    reason: str  # ErrImagePull | InvalidImageName
    message: str
    #: Seconds to wait before the next attempt.
    delay: float


def image_id(image: str) -> str:
    """The ``imageID`` reported for a catalog image: its normalised reference."""
    try:
        return str(parse_reference(image))
    except InvalidReference:
        return image


class ImagePuller:
    """Resolves images for one kubelet, keeping a back-off per (pod uid, image)."""

    def __init__(
        self, catalog: ImageCatalog, *, user_file: Path, base_delay: float, max_delay: float
    ) -> None:
        self.catalog = catalog
        self.user_file = user_file
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._backoffs: dict[tuple[str, str], Backoff] = {}

    def pull(self, pod_uid: str, image: str) -> ImageEntry | PullFailure:
        try:
            parse_reference(image)
        except InvalidReference as err:
            message = (
                f'Failed to apply default image tag "{image}": couldn\'t parse image name '
                f'"{image}": {err}'
            )
            return PullFailure("InvalidImageName", message, self._next(pod_uid, image))
        entry = self.catalog.resolve(image)
        if entry is None:
            return PullFailure(
                "ErrImagePull", how_to_add_mapping(image, self.user_file), self._next(pod_uid, image)
            )
        self._backoffs.pop((pod_uid, image), None)
        return entry

    def forget(self, pod_uid: str) -> None:
        """Drop a finished pod's back-off entries."""
        for key in [k for k in self._backoffs if k[0] == pod_uid]:
            del self._backoffs[key]

    def _next(self, pod_uid: str, image: str) -> float:
        backoff = self._backoffs.setdefault(
            (pod_uid, image), Backoff(self.base_delay, self.max_delay)
        )
        return backoff.next()
