"""Completion indexes of Indexed Jobs: which pod does which index, and the
``status.completedIndexes`` text (``"0-2,5"``, intervals in ascending order)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.api.objects import annotations

__all__ = ["COMPLETION_INDEX", "completion_index", "format_indexes", "parse_indexes"]

#: The annotation (and, since Kubernetes 1.28, label) carrying a pod's index.
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"


def completion_index(pod: Mapping[str, Any], completions: int) -> int | None:
    """The pod's index, or ``None`` when it has none or an invalid one."""
    text = annotations(pod).get(COMPLETION_INDEX, "")
    if not text.isdigit():
        return None
    index = int(text)
    return index if index < completions else None


def parse_indexes(text: str | None, completions: int) -> set[int]:
    found: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            continue
        found.update(i for i in range(int(low), int(high or low) + 1) if i < completions)
    return found


def format_indexes(indexes: Iterable[int]) -> str:
    ordered = sorted(set(indexes))
    parts: list[str] = []
    start = prev = None
    for index in ordered:
        if prev is not None and index == prev + 1:
            prev = index
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = index
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)
