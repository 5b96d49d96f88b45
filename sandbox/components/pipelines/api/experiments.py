"""Experiments: KFP's groups of runs, kept in a small SQLite file beside the cluster.

Why not a Kubernetes object like pipelines, runs and recurring runs? KFP
itself has none: an experiment is a row in the API server's database, with
no controller acting on it and no Kubernetes name rules (display names like
``"My experiment 2"`` are normal). A CRD the sandbox invented would show
users a kind real Kubeflow does not have. So the API keeps experiments where
KFP does — a table — in ``<home>/pipelines/api.sqlite``: durable across
``sandbox down``/``up`` like the cluster's store, readable with ``sqlite3``.

Rows: ``experiment_id`` (a UUID), ``display_name`` (unique, as KFP requires
per namespace), ``description``, ``created_at``, ``storage_state``
(``AVAILABLE``/``ARCHIVED``) and ``last_run_created_at``. The experiment
named ``Default`` always exists: it is created when the store opens (and
again if someone deleted it), and runs that name no experiment — including
runs made outside the API — belong to it.

Archiving an experiment archives its runs and disables its recurring runs
(the run and recurring-run modules do that part; see :mod:`.app`).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from sandbox.clock import Clock, format_time
from sandbox.components.pipelines.api.errors import (
    AlreadyExistsError,
    InvalidArgument,
    NotFoundError,
)
from sandbox.components.pipelines.api.messages import compact

__all__ = ["DEFAULT_EXPERIMENT", "ExperimentStore"]

DEFAULT_EXPERIMENT = "Default"
MEMORY = ":memory:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    storage_state TEXT NOT NULL DEFAULT 'AVAILABLE',
    last_run_created_at TEXT
)
"""
_COLUMNS = ("experiment_id", "display_name", "description", "created_at", "storage_state",
            "last_run_created_at")


class ExperimentStore:
    """The experiments table (see the module docstring). Thread-safe."""

    def __init__(self, path: str | Path = MEMORY, *, clock: Clock) -> None:
        self.clock = clock
        self.path = str(path)
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.execute(_SCHEMA)
        self.default_id()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM experiments {sql}", params)
            return [dict(zip(_COLUMNS, row, strict=True)) for row in cursor.fetchall()]

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    # Reading -----------------------------------------------------------------------

    def default_id(self) -> str:
        """The id of the ``Default`` experiment, created when missing."""
        with self._lock:
            found = self._rows("WHERE display_name = ?", (DEFAULT_EXPERIMENT,))
            if found:
                return str(found[0]["experiment_id"])
            return str(self.create(DEFAULT_EXPERIMENT, description="All runs created without "
                                   "specifying an experiment will be grouped here.")["experiment_id"])

    def get(self, experiment_id: str) -> dict[str, Any]:
        """The experiment as an API message; NotFoundError when there is none."""
        found = self._rows("WHERE experiment_id = ?", (experiment_id,))
        if not found:
            raise NotFoundError(f"Experiment {experiment_id} not found")
        return _message(found[0])

    def list(self) -> list[dict[str, Any]]:
        return [_message(row) for row in self._rows("ORDER BY rowid")]

    def ids_by_state(self, state: str) -> set[str]:
        return {str(r["experiment_id"]) for r in self._rows("WHERE storage_state = ?", (state,))}

    # Writing -----------------------------------------------------------------------

    def create(self, display_name: str, *, description: str = "") -> dict[str, Any]:
        if not display_name.strip():
            raise InvalidArgument("Experiment display name is empty. Please specify a valid name")
        experiment_id = str(uuid.uuid4())
        try:
            self._write("INSERT INTO experiments (experiment_id, display_name, description, created_at) "
                        "VALUES (?, ?, ?, ?)",
                        (experiment_id, display_name, description, format_time(self.clock.now())))
        except sqlite3.IntegrityError:
            raise AlreadyExistsError(f"The name {display_name} already exists. Please specify a "
                                     "new name") from None
        return self.get(experiment_id)

    def set_storage_state(self, experiment_id: str, state: str) -> None:
        if not self._write("UPDATE experiments SET storage_state = ? WHERE experiment_id = ?",
                           (state, experiment_id)):
            raise NotFoundError(f"Experiment {experiment_id} not found")

    def touch_last_run(self, experiment_id: str) -> None:
        self._write("UPDATE experiments SET last_run_created_at = ? WHERE experiment_id = ?",
                    (format_time(self.clock.now()), experiment_id))

    def delete(self, experiment_id: str) -> None:
        if not self._write("DELETE FROM experiments WHERE experiment_id = ?", (experiment_id,)):
            raise NotFoundError(f"Experiment {experiment_id} not found")


def _message(row: dict[str, Any]) -> dict[str, Any]:
    return compact({**row, "namespace": ""})
