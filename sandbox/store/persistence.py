"""Where the store's objects outlive the process.

The store keeps every object in memory (that is what makes reads and
watches fast) and writes each change through to a :class:`Persistence`
before it acknowledges it. Two implementations:

- :class:`MemoryPersistence`: nothing is written (tests, ephemeral clusters);
- :class:`SqlitePersistence`: one SQLite database in WAL mode. A write is
  acknowledged only after its transaction committed, so a process killed
  with SIGKILL loses nothing it acknowledged: the WAL is in the operating
  system's hands at commit (``synchronous=NORMAL`` trades only power-loss
  durability, which a local sandbox does not need, for speed).

The global resourceVersion counter is persisted in the same transaction as
the object, so a reopened store continues monotonically.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

__all__ = ["MemoryPersistence", "Persistence", "Row", "SqlitePersistence"]

Row = tuple[str, str, str, dict[str, Any]]
"""(resource, namespace, name, object)."""


class Persistence(Protocol):
    def load(self) -> tuple[int, Iterator[Row]]:
        """The last resourceVersion written and every stored object."""
        ...

    def put(self, resource: str, namespace: str, name: str, obj: dict[str, Any], rv: int) -> None:
        """Store one object at ``rv`` (durably, before returning)."""
        ...

    def delete(self, resource: str, namespace: str, name: str, rv: int) -> None: ...

    def close(self) -> None: ...


class MemoryPersistence:
    """Keeps nothing: the store's own dicts are the only copy."""

    def load(self) -> tuple[int, Iterator[Row]]:
        return 0, iter(())

    def put(self, resource: str, namespace: str, name: str, obj: dict[str, Any], rv: int) -> None:
        pass

    def delete(self, resource: str, namespace: str, name: str, rv: int) -> None:
        pass

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    resource  TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    rv        INTEGER NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class SqlitePersistence:
    """Objects in one SQLite file (WAL), one transaction per acknowledged write."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # Autocommit mode; transactions are explicit so each write is one commit.
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def load(self) -> tuple[int, Iterator[Row]]:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'rv'").fetchone()
            rows = self._db.execute(
                "SELECT resource, namespace, name, body FROM objects ORDER BY rv"
            ).fetchall()
        last = int(row[0]) if row else 0
        return last, ((r, ns, n, json.loads(body)) for r, ns, n, body in rows)

    def put(self, resource: str, namespace: str, name: str, obj: dict[str, Any], rv: int) -> None:
        body = json.dumps(obj, separators=(",", ":"))
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO objects (resource, namespace, name, rv, body) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (resource, namespace, name, rv, body),
                )
                self._set_rv(rv)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete(self, resource: str, namespace: str, name: str, rv: int) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                    (resource, namespace, name),
                )
                self._set_rv(rv)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _set_rv(self, rv: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('rv', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (rv,),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
