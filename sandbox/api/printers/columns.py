"""The vocabulary of every printer: columns, printers, and the cell helpers they share.

A :class:`Printer` pairs a kind's ``TableColumnDefinition`` list with a
function giving the cells of *all* its columns for one object (the table
drops wide ones when asked). Helpers format cells the way Go's printers do
(``labels.FormatLabels``, ``metav1.FormatLabelSelector``, canonical
quantities), and :data:`DEFAULT_PRINTER` is the generic ``NAME CREATED AT``
of kinds without a printer. Column descriptions name the OpenAPI field
Kubernetes documents them with and are looked up lazily in the packaged
1.31 schemas.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.api.errors import BadRequest
from sandbox.api.printers.ages import age, parse_timestamp
from sandbox.api.quantity import canonicalize
from sandbox.api.schema import openapi_components
from sandbox.api.selectors import LabelSelector
from sandbox.clock import format_time

__all__ = [
    "AGE_COLUMN",
    "CONTAINERS_COLUMN",
    "DEFAULT_PRINTER",
    "IMAGES_COLUMN",
    "NAME_COLUMN",
    "OBJECT_META",
    "CellsFunc",
    "Column",
    "ConditionsFunc",
    "PrintOptions",
    "Printer",
    "age_of",
    "as_int",
    "condition_true",
    "containers_and_images",
    "format_label_selector",
    "format_labels",
    "get",
    "kind_key",
    "name_of",
    "quantity_text",
    "selector_string",
]


def kind_key(group: str, kind: str) -> str:
    """The registry key of a kind: Go's ``GroupKind.String()`` (``"Deployment.apps"``, ``"Pod"``)."""
    return f"{kind}.{group}" if group else kind


@dataclass(frozen=True, slots=True)
class PrintOptions:
    """What a printer may look at besides the object."""

    now: datetime
    wide: bool


@dataclass(frozen=True, slots=True)
class Column:
    """One ``TableColumnDefinition``.

    ``description`` is either the text or a ``(definition, property)`` pair
    naming the OpenAPI field whose documentation Kubernetes uses
    (``SwaggerDoc()``), looked up in the packaged 1.31 schemas on first use.
    """

    name: str
    type: str = "string"
    description: str | tuple[str, str] = ""
    priority: int = 0
    format: str = ""

    def definition(self) -> dict[str, Any]:
        description = self.description
        if isinstance(description, tuple):
            description = _field_doc(*description)
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": description,
            "priority": self.priority,
        }


CellsFunc = Callable[[Mapping[str, Any], PrintOptions], list[Any]]
ConditionsFunc = Callable[[Mapping[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Printer:
    """How one kind prints: its columns, and the cells of *every* column for an object.

    ``cells`` returns one value per column, wide ones included; :func:`table`
    drops those of priority > 0 when not wide. ``conditions`` gives a row's
    ``TableRowCondition`` list (pods mark themselves ``Completed``).
    """

    columns: tuple[Column, ...]
    cells: CellsFunc
    conditions: ConditionsFunc | None = None


OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@functools.cache
def _field_doc(definition: str, prop: str) -> str:
    name = definition if definition.startswith("io.k8s.") else f"io.k8s.api.{definition}"
    schema = openapi_components().get(name) or {}
    return str(((schema.get("properties") or {}).get(prop) or {}).get("description") or "")


def get(obj: Any, *path: str, default: Any = None) -> Any:
    """``obj[path[0]][path[1]]…``, or ``default`` where a step is missing, null or not a map."""
    for key in path:
        if not isinstance(obj, Mapping):
            return default
        obj = obj.get(key)
        if obj is None:
            return default
    return obj


def name_of(obj: Mapping[str, Any]) -> str:
    """``metadata.name``."""
    return str(get(obj, "metadata", "name", default=""))


def age_of(obj: Mapping[str, Any], opts: PrintOptions) -> str:
    """The AGE cell: time since ``metadata.creationTimestamp``."""
    return age(get(obj, "metadata", "creationTimestamp"), now=opts.now)


def as_int(value: Any, default: int = 0) -> int:
    """A JSON number as an int (Go's int32/int64 fields); ``default`` for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value)


def format_labels(labels: Any) -> str:
    """``labels.FormatLabels``: ``a=1,b=2`` sorted by key, ``<none>`` when empty."""
    if not isinstance(labels, Mapping) or not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def selector_string(selector: Any) -> str | None:
    """``LabelSelectorAsSelector(s).String()``; ``None`` when the selector is invalid."""
    try:
        return str(LabelSelector.from_dict(selector))
    except BadRequest:
        return None


def format_label_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<none>`` when empty, ``<error>`` when invalid."""
    text = selector_string(selector)
    if text is None:
        return "<error>"
    return text or "<none>"


def containers_and_images(pod_spec: Any) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, comma-separated."""
    containers = get(pod_spec, "containers", default=[])
    return (
        ",".join(str(c.get("name") or "") for c in containers),
        ",".join(str(c.get("image") or "") for c in containers),
    )


def quantity_text(value: Any) -> str:
    """``Quantity.String()``: canonical form (``"<nil>"`` for an unset pointer)."""
    if value is None:
        return "<nil>"
    try:
        return canonicalize(value)
    except (ValueError, TypeError):
        return str(value)


def condition_true(conditions: Any, type_: str) -> bool:
    """Whether the first condition of ``type_`` has status ``"True"``."""
    for condition in conditions or ():
        if condition.get("type") == type_:
            return condition.get("status") == "True"
    return False


NAME_COLUMN = Column("Name", format="name", description=(OBJECT_META, "name"))
AGE_COLUMN = Column("Age", description=(OBJECT_META, "creationTimestamp"))
CONTAINERS_COLUMN = Column(
    "Containers", priority=1, description="Names of each container in the template."
)
IMAGES_COLUMN = Column(
    "Images", priority=1, description="Images referenced by each container in the template."
)


def _default_cells(obj: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    created = parse_timestamp(get(obj, "metadata", "creationTimestamp"))
    return [name_of(obj), format_time(created) if created else "0001-01-01T00:00:00Z"]


DEFAULT_PRINTER = Printer(
    columns=(
        NAME_COLUMN,
        Column("Created At", type="date", description=(OBJECT_META, "creationTimestamp")),
    ),
    cells=_default_cells,
)
