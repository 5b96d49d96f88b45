"""The metadata store: MLMD's ``MetadataStore`` API over one SQLite file.

Data flow: the workflow controller (and anything else that records what ran)
calls ``put_*`` with :mod:`.model` values; every call is one SQLite
transaction, validated first (types exist, declared properties have their
declared types, names and external ids are unique, edges join existing
nodes) and either applied whole or not at all. Readers call ``get_*`` and get
fresh model values back, properties decoded to the Python values that were
put. :mod:`.lineage` walks events with the ``get_events_*`` calls; :mod:`.kfp`
records tasks the way Kubeflow Pipelines does.

The method names and semantics are those of ``ml_metadata.MetadataStore``
(``put_artifact_type``, ``put_execution``, ``get_artifacts_by_context``,
``get_events_by_execution_ids`` …) so MLMD code ports directly. Where it is
more Pythonic:

* ``put_*`` fill in ``id``, ``type_id``, ``type`` and the times of the objects
  passed (after the transaction commits), besides returning the ids;
* one filtering call per node kind — ``get_artifacts(type_name=…, uri=…,
  context_id=…, state=…, custom_properties={…}, order_by=…, limit=…)`` —
  behind the MLMD-named shortcuts; a property filter matches the value *and*
  its type (``1`` is not ``1.0``), ``None`` matches "not set";
* errors are the sandbox's Kubernetes-shaped ones: :class:`NotFound`,
  :class:`AlreadyExists` (a duplicate name, or a type redefined differently),
  :class:`BadRequest` (MLMD's InvalidArgument), :class:`ServiceUnavailable`
  (the file stayed locked past the busy timeout).

Concurrency: one connection per store, guarded by a lock, so one store object
may be shared by threads. Several processes may open the same file: it is in
WAL mode (readers never block the writer), every write transaction starts
with ``BEGIN IMMEDIATE`` (so check-then-insert cannot race another process)
and waits up to ``busy_timeout`` seconds for the write lock.
``":memory:"`` gives a private in-memory store for tests.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from sandbox.api.errors import AlreadyExists, BadRequest, NotFound, ServiceUnavailable
from sandbox.clock import Clock, SystemClock

from .model import (
    Artifact,
    ArtifactBaseType,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextBaseType,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionBaseType,
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyType,
    property_type_of,
)
from .schema import SCHEMA_VERSION, TYPE_KIND, ddl
from .values import VALUE_COLUMNS, decode, encode, match

__all__ = ["MEMORY", "MetadataStore"]

#: The path that opens a private in-memory store.
MEMORY = ":memory:"

_ORDER_COLUMNS = frozenset(
    {"id", "name", "create_time_since_epoch", "last_update_time_since_epoch"}
)

_TYPE_CLASSES: dict[str, tuple[type[Any], type[Any]]] = {
    "artifact": (ArtifactType, ArtifactBaseType),
    "execution": (ExecutionType, ExecutionBaseType),
    "context": (ContextType, ContextBaseType),
}
_NODE_CLASSES: dict[str, type[Any]] = {
    "artifact": Artifact,
    "execution": Execution,
    "context": Context,
}
# Columns beyond the common ones, as (column, attribute, enum).
_NODE_EXTRA: dict[str, tuple[tuple[str, str, type[Any] | None], ...]] = {
    "artifact": (("uri", "uri", None), ("state", "state", ArtifactState)),
    "execution": (("last_known_state", "last_known_state", ExecutionState),),
    "context": (),
}
# The edge table that makes a node a member of a context.
_MEMBERSHIP = {"artifact": ("attribution", "artifact_id"), "execution": ("association", "execution_id")}

_Node = TypeVar("_Node", Artifact, Execution, Context)


class _Tx:
    """One write transaction: the connection and what to do once it commits."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.after_commit: list[Callable[[], None]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


def _ids_param(ids: Iterable[int]) -> str:
    """Many ids as one bound parameter, read back with ``json_each``."""
    return json.dumps([int(i) for i in ids])


def _copy_into(target: Any, source: Any) -> None:
    for f in fields(source):
        setattr(target, f.name, getattr(source, f.name))


def _states(state: Any, enum: type[Any]) -> list[int]:
    if isinstance(state, (int, str)):
        state = [state]
    return [int(enum[s]) if isinstance(s, str) else int(enum(s)) for s in state]


class MetadataStore:
    """ML Metadata in one SQLite file (or ``":memory:"``)."""

    def __init__(
        self,
        path: str | os.PathLike[str] = MEMORY,
        *,
        clock: Clock | None = None,
        busy_timeout: float = 30.0,
    ) -> None:
        self._clock = clock or SystemClock()
        self._path = str(path)
        if self._path != MEMORY:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._batching = False
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self._path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        self._conn.execute("PRAGMA foreign_keys = ON")
        if self._path != MEMORY:
            self._enable_wal(busy_timeout)
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._create_schema()

    def _enable_wal(self, busy_timeout: float) -> None:
        """Switch the file to WAL (persistent, so once per file).

        Switching needs the file to itself, and SQLite answers "locked" at once
        instead of waiting when another process is switching or creating the
        schema at the same moment — so this waits for the file lock itself.
        """
        conn = self._connection()
        deadline = time.monotonic() + busy_timeout
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                error = self._translate(exc)
                if not isinstance(error, ServiceUnavailable) or time.monotonic() > deadline:
                    raise error from exc
                time.sleep(0.005)

    # Lifecycle ---------------------------------------------------------------

    @property
    def path(self) -> str:
        return self._path

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MetadataStore({self._path!r})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ServiceUnavailable(f"metadata store {self._path} is closed")
        return self._conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside as one transaction (one commit): all of them or none.

        Each write keeps its own all-or-nothing within the batch (a savepoint),
        so a write that fails — an ``AlreadyExists`` a caller expects — undoes
        only itself. Reads inside see the batch's writes. Nested batches join
        the outer one. Other threads wait for the batch to end.
        """
        with self._lock:
            if self._batching:
                yield
                return
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc
            self._batching = True
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    raise self._translate(exc) from exc
            finally:
                self._batching = False

    @contextmanager
    def _write(self) -> Iterator[_Tx]:
        with self._lock:
            conn = self._connection()
            begin, commit, undo = (("SAVEPOINT write", "RELEASE write", ("ROLLBACK TO write", "RELEASE write"))
                                   if self._batching else ("BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)))
            try:
                conn.execute(begin)
                tx = _Tx(conn)
                try:
                    yield tx
                except BaseException:
                    if conn.in_transaction:
                        for statement in undo:
                            conn.execute(statement)
                    raise
                conn.execute(commit)
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(f"metadata store constraint failed: {exc}") from exc
        for action in tx.after_commit:
            action()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            if self._batching:  # already one snapshot: the batch's transaction
                try:
                    yield conn
                except sqlite3.OperationalError as exc:
                    raise self._translate(exc) from exc
                return
            try:
                conn.execute("BEGIN")  # one snapshot for the multi-statement read
                try:
                    yield conn
                finally:
                    if conn.in_transaction:
                        conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc

    def _translate(self, exc: sqlite3.OperationalError) -> Exception:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return ServiceUnavailable(f"metadata store {self._path} is busy: {text}")
        return exc

    def _create_schema(self) -> None:
        with self._write() as tx:
            version = tx.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise BadRequest(
                    f"metadata store {self._path} has schema version {version}, newer than "
                    f"this sandbox's {SCHEMA_VERSION}"
                )
            if version < SCHEMA_VERSION:
                for statement in ddl():
                    tx.execute(statement)
                tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    # Types -------------------------------------------------------------------

    def put_artifact_type(
        self, artifact_type: ArtifactType, *, can_add_fields: bool = False,
        can_omit_fields: bool = False,
    ) -> int:
        """Create the type, or return the id of the identical one already stored.

        A stored type of the same name and version with other properties is a
        conflict (:class:`AlreadyExists`) unless ``can_add_fields`` (new
        properties are added) / ``can_omit_fields`` (stored ones missing from
        ``artifact_type`` are kept) allow the difference. A property's value
        type never changes.
        """
        return self._put_type("artifact", artifact_type, can_add_fields, can_omit_fields)

    def put_execution_type(
        self, execution_type: ExecutionType, *, can_add_fields: bool = False,
        can_omit_fields: bool = False,
    ) -> int:
        """As :meth:`put_artifact_type`, for execution types."""
        return self._put_type("execution", execution_type, can_add_fields, can_omit_fields)

    def put_context_type(
        self, context_type: ContextType, *, can_add_fields: bool = False,
        can_omit_fields: bool = False,
    ) -> int:
        """As :meth:`put_artifact_type`, for context types."""
        return self._put_type("context", context_type, can_add_fields, can_omit_fields)

    def get_artifact_type(self, name: str, *, version: str | None = None) -> ArtifactType:
        """The artifact type of that name (and version); :class:`NotFound` if none."""
        return self._get_type("artifact", name, version)

    def get_execution_type(self, name: str, *, version: str | None = None) -> ExecutionType:
        return self._get_type("execution", name, version)

    def get_context_type(self, name: str, *, version: str | None = None) -> ContextType:
        return self._get_type("context", name, version)

    def get_artifact_types(self) -> list[ArtifactType]:
        return self._select_types("artifact", "", [])

    def get_execution_types(self) -> list[ExecutionType]:
        return self._select_types("execution", "", [])

    def get_context_types(self) -> list[ContextType]:
        return self._select_types("context", "", [])

    def get_artifact_types_by_id(self, ids: Iterable[int]) -> list[ArtifactType]:
        return self._select_types("artifact", "id IN (SELECT value FROM json_each(?))",
                                  [_ids_param(ids)])

    def get_execution_types_by_id(self, ids: Iterable[int]) -> list[ExecutionType]:
        return self._select_types("execution", "id IN (SELECT value FROM json_each(?))",
                                  [_ids_param(ids)])

    def get_context_types_by_id(self, ids: Iterable[int]) -> list[ContextType]:
        return self._select_types("context", "id IN (SELECT value FROM json_each(?))",
                                  [_ids_param(ids)])

    def _put_type(self, kind: str, new: Any, can_add: bool, can_omit: bool) -> int:
        label = f"{kind} type"
        if not new.name:
            raise BadRequest(f"{label}: name is required")
        wanted: dict[str, PropertyType] = {}
        for prop, value_type in new.properties.items():
            value_type = PropertyType(value_type)
            if value_type is PropertyType.UNKNOWN:
                raise BadRequest(f"{label} {new.name!r}: property {prop!r} has no value type")
            wanted[prop] = value_type
        version = new.version or ""
        base_type = None if new.base_type is None else int(new.base_type)
        with self._write() as tx:
            row = tx.execute(
                "SELECT id, external_id, base_type FROM type "
                "WHERE kind = ? AND name = ? AND version = ?",
                (TYPE_KIND[kind], new.name, version),
            ).fetchone()
            if row is None:
                self._check_type_external_id(tx, kind, new.external_id, new.name)
                type_id = tx.execute(
                    "INSERT INTO type (kind, name, version, description, external_id, base_type) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (TYPE_KIND[kind], new.name, version, new.description, new.external_id,
                     base_type),
                ).lastrowid
                added = wanted
            else:
                type_id, stored_external_id, stored_base_type = row
                stored = self._type_properties(tx.conn, [type_id])[type_id]
                problems = []
                for prop, value_type in wanted.items():
                    if prop in stored and stored[prop] is not value_type:
                        problems.append(
                            f"property {prop!r} is {stored[prop].name}, not {value_type.name}"
                        )
                    elif prop not in stored and not can_add:
                        problems.append(f"property {prop!r} is new (can_add_fields=True adds it)")
                problems += [
                    f"property {prop!r} is missing (can_omit_fields=True allows that)"
                    for prop in stored
                    if prop not in wanted and not can_omit
                ]
                if base_type is not None and stored_base_type not in (None, base_type):
                    problems.append(f"base_type is {stored_base_type}, not {base_type}")
                if new.external_id is not None and stored_external_id not in (
                    None, new.external_id,
                ):
                    problems.append(f"external_id is {stored_external_id!r}")
                if problems:
                    raise AlreadyExists(
                        f"{label} {new.name!r} already exists with a different definition: "
                        + "; ".join(problems)
                    )
                if new.external_id is not None and stored_external_id is None:
                    self._check_type_external_id(tx, kind, new.external_id, new.name)
                tx.execute(
                    "UPDATE type SET description = coalesce(description, ?), "
                    "external_id = coalesce(external_id, ?), base_type = coalesce(base_type, ?) "
                    "WHERE id = ?",
                    (new.description, new.external_id, base_type, type_id),
                )
                added = {p: t for p, t in wanted.items() if p not in stored}
            for prop, value_type in added.items():
                tx.execute(
                    "INSERT INTO type_property (type_id, name, data_type) VALUES (?, ?, ?)",
                    (type_id, prop, int(value_type)),
                )
            tx.after_commit.append(lambda: setattr(new, "id", type_id))
        assert type_id is not None
        return type_id

    @staticmethod
    def _check_type_external_id(tx: _Tx, kind: str, external_id: str | None, name: str) -> None:
        if external_id is None:
            return
        hit = tx.execute(
            "SELECT name FROM type WHERE kind = ? AND external_id = ?",
            (TYPE_KIND[kind], external_id),
        ).fetchone()
        if hit:
            raise AlreadyExists(
                f"{kind} type external_id {external_id!r} is already used by type {hit[0]!r}"
            )

    def _get_type(self, kind: str, name: str, version: str | None) -> Any:
        found = self._select_types(kind, "name = ? AND version = ?", [name, version or ""])
        if not found:
            suffix = f" version {version!r}" if version else ""
            raise NotFound(f"{kind} type {name!r}{suffix} not found")
        return found[0]

    def _select_types(self, kind: str, where: str, params: list[Any]) -> list[Any]:
        cls, base_enum = _TYPE_CLASSES[kind]
        sql = ("SELECT id, name, version, description, external_id, base_type FROM type "
               "WHERE kind = ?")
        if where:
            sql += f" AND {where}"
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY id", [TYPE_KIND[kind], *params]).fetchall()
            properties = self._type_properties(conn, [r[0] for r in rows])
        return [
            cls(
                name,
                id=type_id,
                version=version or None,
                description=description,
                external_id=external_id,
                base_type=None if base_type is None else base_enum(base_type),
                properties=properties[type_id],
            )
            for type_id, name, version, description, external_id, base_type in rows
        ]

    @staticmethod
    def _type_properties(
        conn: sqlite3.Connection, type_ids: Sequence[int]
    ) -> dict[int, dict[str, PropertyType]]:
        result: dict[int, dict[str, PropertyType]] = {i: {} for i in type_ids}
        for type_id, name, data_type in conn.execute(
            "SELECT type_id, name, data_type FROM type_property "
            "WHERE type_id IN (SELECT value FROM json_each(?)) ORDER BY type_id, name",
            (_ids_param(type_ids),),
        ):
            result[type_id][name] = PropertyType(data_type)
        return result

    # Nodes: writes -----------------------------------------------------------

    def put_artifacts(self, artifacts: Sequence[Artifact]) -> list[int]:
        """Insert artifacts without an ``id``, replace those with one; their ids in order.

        An update replaces the stored fields and properties with the given
        ones; ``type`` and a set ``name`` or ``external_id`` cannot change.
        """
        with self._write() as tx:
            now = self._now_ms()
            return [self._put_node(tx, "artifact", a, now) for a in artifacts]

    def put_executions(self, executions: Sequence[Execution]) -> list[int]:
        """As :meth:`put_artifacts`, for executions."""
        with self._write() as tx:
            now = self._now_ms()
            return [self._put_node(tx, "execution", e, now) for e in executions]

    def put_contexts(self, contexts: Sequence[Context]) -> list[int]:
        """As :meth:`put_artifacts`, for contexts (whose ``name`` is required)."""
        with self._write() as tx:
            now = self._now_ms()
            return [self._put_node(tx, "context", c, now) for c in contexts]

    def get_or_create_context(self, context: Context) -> Context:
        """The stored context of ``context``'s type and name, created from it if absent.

        Atomic: processes racing to create the same run context get one.
        ``context`` itself is left as it is.
        """
        if context.id is not None:
            raise BadRequest("get_or_create_context takes a context without an id")
        with self._write() as tx:
            found = self._find_context(tx, context)
            if found is None:
                self._put_node(tx, "context", context, self._now_ms())
                tx.after_commit.pop()  # leave the caller's object as it was
                found = self._find_context(tx, context)
            assert found is not None
            return found

    def _find_context(self, tx: _Tx, context: Context) -> Context | None:
        type_id, _, _ = self._resolve_type(tx.conn, "context", context.type_id, context.type)
        if not context.name:
            raise BadRequest("context: name is required")
        found = self._select_nodes(
            tx.conn, "context", ["n.type_id = ?", "n.name = ?"], [type_id, context.name]
        )
        return found[0] if found else None

    def _resolve_type(
        self, conn: sqlite3.Connection, kind: str, type_id: int | None, type_name: str | None
    ) -> tuple[int, str, dict[str, PropertyType]]:
        """A node's ``(type_id, type name, declared properties)`` from either of the first two."""
        if type_id is not None:
            row = conn.execute(
                "SELECT id, name FROM type WHERE kind = ? AND id = ?",
                (TYPE_KIND[kind], type_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"{kind} type id {type_id} not found")
            if type_name is not None and type_name != row[1]:
                raise BadRequest(
                    f"{kind}: type_id {type_id} is type {row[1]!r}, not {type_name!r}"
                )
        elif type_name is not None:
            row = conn.execute(
                "SELECT id, name FROM type WHERE kind = ? AND name = ? AND version = ''",
                (TYPE_KIND[kind], type_name),
            ).fetchone()
            if row is None:
                raise NotFound(
                    f"{kind} type {type_name!r} not found (put the type first; a versioned "
                    "type is named by type_id)"
                )
        else:
            raise BadRequest(f"{kind}: type_id or type is required")
        resolved_id, resolved_name = row
        return resolved_id, resolved_name, self._type_properties(conn, [resolved_id])[resolved_id]

    def _put_node(self, tx: _Tx, kind: str, node: Any, now: int) -> int:
        stored = None
        if node.id is not None:
            stored = tx.execute(
                f"SELECT type_id, name, external_id, create_time_since_epoch FROM {kind} "
                "WHERE id = ?",
                (node.id,),
            ).fetchone()
            if stored is None:
                raise NotFound(f"{kind} {node.id} not found")
            named = node.type_id is not None or node.type is not None
            type_id, type_name, declared = self._resolve_type(
                tx.conn, kind, node.type_id if named else stored[0], node.type
            )
            if type_id != stored[0]:
                raise BadRequest(f"{kind} {node.id}: the type of a stored {kind} cannot change")
        else:
            type_id, type_name, declared = self._resolve_type(
                tx.conn, kind, node.type_id, node.type
            )

        name, external_id = node.name, node.external_id
        if stored is not None:
            for attr, old, new in (("name", stored[1], name), ("external_id", stored[2], external_id)):
                if new is not None and old is not None and new != old:
                    raise BadRequest(f"{kind} {node.id}: {attr} {old!r} cannot change to {new!r}")
            name = stored[1] if name is None else name
            external_id = stored[2] if external_id is None else external_id
        if kind == "context" and not name:
            raise BadRequest("context: name is required")
        self._check_unique(tx, kind, node.id, type_id, type_name, name, external_id)

        rows = []
        coerced: dict[str, Any] = {}  # ints put into DOUBLE properties, as stored
        for is_custom, values in ((0, node.properties), (1, node.custom_properties)):
            for prop, value in values.items():
                if value is None:
                    continue
                if not is_custom and prop not in declared:
                    raise BadRequest(
                        f"{kind} property {prop!r} is not declared by type {type_name!r} "
                        "(put it in custom_properties)"
                    )
                expected = None if is_custom else declared[prop]
                rows.append((prop, is_custom, *encode(prop, value, expected)))
                if expected is PropertyType.DOUBLE and property_type_of(value) is PropertyType.INT:
                    coerced[prop] = float(value)

        extra_columns = [column for column, _, _ in _NODE_EXTRA[kind]]
        extra_values = [
            getattr(node, attr) if enum is None else int(enum(getattr(node, attr)))
            for _, attr, enum in _NODE_EXTRA[kind]
        ]
        if stored is None:
            columns = ["type_id", "name", "external_id", *extra_columns,
                       "create_time_since_epoch", "last_update_time_since_epoch"]
            node_id = tx.execute(
                f"INSERT INTO {kind} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                (type_id, name, external_id, *extra_values, now, now),
            ).lastrowid
            created = now
        else:
            node_id, created = node.id, stored[3]
            assignments = ", ".join(f"{c} = ?" for c in ["name", "external_id", *extra_columns])
            tx.execute(
                f"UPDATE {kind} SET {assignments}, last_update_time_since_epoch = ? WHERE id = ?",
                (name, external_id, *extra_values, now, node_id),
            )
            tx.execute(f"DELETE FROM {kind}_property WHERE {kind}_id = ?", (node_id,))
        tx.conn.executemany(
            f"INSERT INTO {kind}_property ({kind}_id, name, is_custom, data_type, "
            f"{', '.join(VALUE_COLUMNS)}) VALUES (?, ?, ?, ?, {', '.join('?' * len(VALUE_COLUMNS))})",
            [(node_id, *row) for row in rows],
        )

        def fill() -> None:
            node.id, node.type_id, node.type = node_id, type_id, type_name
            node.name, node.external_id = name, external_id
            node.create_time_since_epoch, node.last_update_time_since_epoch = created, now
            node.properties.update(coerced)

        tx.after_commit.append(fill)
        assert node_id is not None
        return node_id

    @staticmethod
    def _check_unique(
        tx: _Tx, kind: str, node_id: int | None, type_id: int, type_name: str,
        name: str | None, external_id: str | None,
    ) -> None:
        if name is not None:
            hit = tx.execute(
                f"SELECT id FROM {kind} WHERE type_id = ? AND name = ? AND id IS NOT ?",
                (type_id, name, node_id),
            ).fetchone()
            if hit:
                raise AlreadyExists(
                    f'{kind} "{name}" of type "{type_name}" already exists (id {hit[0]})'
                )
        if external_id is not None:
            hit = tx.execute(
                f"SELECT id FROM {kind} WHERE external_id = ? AND id IS NOT ?",
                (external_id, node_id),
            ).fetchone()
            if hit:
                raise AlreadyExists(
                    f"{kind} external_id {external_id!r} is already used by {kind} {hit[0]}"
                )

    # Nodes: reads ------------------------------------------------------------

    def get_artifacts(
        self,
        *,
        ids: Iterable[int] | None = None,
        type_name: str | None = None,
        type_version: str | None = None,
        name: str | None = None,
        uri: str | None = None,
        external_id: str | None = None,
        state: ArtifactState | str | Iterable[ArtifactState | str] | None = None,
        context_id: int | None = None,
        properties: Mapping[str, Any] | None = None,
        custom_properties: Mapping[str, Any] | None = None,
        order_by: str = "id",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Artifact]:
        """Artifacts matching every filter given (all artifacts when none is)."""
        where, params = self._filters(
            "artifact", ids=ids, type_name=type_name, type_version=type_version, name=name,
            external_id=external_id, context_id=context_id, properties=properties,
            custom_properties=custom_properties,
        )
        if uri is not None:
            where.append("n.uri = ?")
            params.append(uri)
        if state is not None:
            where.append("n.state IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(_states(state, ArtifactState)))
        return self._get_nodes("artifact", where, params, order_by, descending, limit, offset)

    def get_executions(
        self,
        *,
        ids: Iterable[int] | None = None,
        type_name: str | None = None,
        type_version: str | None = None,
        name: str | None = None,
        external_id: str | None = None,
        state: ExecutionState | str | Iterable[ExecutionState | str] | None = None,
        context_id: int | None = None,
        properties: Mapping[str, Any] | None = None,
        custom_properties: Mapping[str, Any] | None = None,
        order_by: str = "id",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Execution]:
        """Executions matching every filter given; ``state`` is ``last_known_state``."""
        where, params = self._filters(
            "execution", ids=ids, type_name=type_name, type_version=type_version, name=name,
            external_id=external_id, context_id=context_id, properties=properties,
            custom_properties=custom_properties,
        )
        if state is not None:
            where.append("n.last_known_state IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(_states(state, ExecutionState)))
        return self._get_nodes("execution", where, params, order_by, descending, limit, offset)

    def get_contexts(
        self,
        *,
        ids: Iterable[int] | None = None,
        type_name: str | None = None,
        type_version: str | None = None,
        name: str | None = None,
        external_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        custom_properties: Mapping[str, Any] | None = None,
        order_by: str = "id",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Context]:
        """Contexts matching every filter given."""
        where, params = self._filters(
            "context", ids=ids, type_name=type_name, type_version=type_version, name=name,
            external_id=external_id, context_id=None, properties=properties,
            custom_properties=custom_properties,
        )
        return self._get_nodes("context", where, params, order_by, descending, limit, offset)

    # MLMD's names for the common queries.

    def get_artifact(self, artifact_id: int) -> Artifact:
        """One artifact; :class:`NotFound` if there is none with that id."""
        return self._one("artifact", self.get_artifacts(ids=[artifact_id]), artifact_id)

    def get_execution(self, execution_id: int) -> Execution:
        return self._one("execution", self.get_executions(ids=[execution_id]), execution_id)

    def get_context(self, context_id: int) -> Context:
        return self._one("context", self.get_contexts(ids=[context_id]), context_id)

    def get_artifacts_by_id(self, ids: Iterable[int]) -> list[Artifact]:
        return self.get_artifacts(ids=ids)

    def get_executions_by_id(self, ids: Iterable[int]) -> list[Execution]:
        return self.get_executions(ids=ids)

    def get_contexts_by_id(self, ids: Iterable[int]) -> list[Context]:
        return self.get_contexts(ids=ids)

    def get_artifacts_by_type(
        self, type_name: str, type_version: str | None = None
    ) -> list[Artifact]:
        return self.get_artifacts(type_name=type_name, type_version=type_version or "")

    def get_executions_by_type(
        self, type_name: str, type_version: str | None = None
    ) -> list[Execution]:
        return self.get_executions(type_name=type_name, type_version=type_version or "")

    def get_contexts_by_type(
        self, type_name: str, type_version: str | None = None
    ) -> list[Context]:
        return self.get_contexts(type_name=type_name, type_version=type_version or "")

    def get_artifact_by_type_and_name(
        self, type_name: str, name: str, type_version: str | None = None
    ) -> Artifact | None:
        found = self.get_artifacts(type_name=type_name, type_version=type_version or "", name=name)
        return found[0] if found else None

    def get_execution_by_type_and_name(
        self, type_name: str, name: str, type_version: str | None = None
    ) -> Execution | None:
        found = self.get_executions(
            type_name=type_name, type_version=type_version or "", name=name
        )
        return found[0] if found else None

    def get_context_by_type_and_name(
        self, type_name: str, name: str, type_version: str | None = None
    ) -> Context | None:
        found = self.get_contexts(type_name=type_name, type_version=type_version or "", name=name)
        return found[0] if found else None

    def get_artifacts_by_uri(self, uri: str) -> list[Artifact]:
        return self.get_artifacts(uri=uri)

    def get_artifacts_by_context(self, context_id: int) -> list[Artifact]:
        """The artifacts attributed to the context."""
        return self.get_artifacts(context_id=context_id)

    def get_executions_by_context(self, context_id: int) -> list[Execution]:
        """The executions associated with the context."""
        return self.get_executions(context_id=context_id)

    def get_contexts_by_artifact(self, artifact_id: int) -> list[Context]:
        """The contexts the artifact is attributed to."""
        return self._related_contexts(
            "SELECT context_id FROM attribution WHERE artifact_id = ?", artifact_id
        )

    def get_contexts_by_execution(self, execution_id: int) -> list[Context]:
        """The contexts the execution is associated with."""
        return self._related_contexts(
            "SELECT context_id FROM association WHERE execution_id = ?", execution_id
        )

    def get_parent_contexts_by_context(self, context_id: int) -> list[Context]:
        return self._related_contexts(
            "SELECT parent_context_id FROM parent_context WHERE context_id = ?", context_id
        )

    def get_children_contexts_by_context(self, context_id: int) -> list[Context]:
        return self._related_contexts(
            "SELECT context_id FROM parent_context WHERE parent_context_id = ?", context_id
        )

    def _related_contexts(self, subquery: str, node_id: int) -> list[Context]:
        with self._read() as conn:
            return self._select_nodes(conn, "context", [f"n.id IN ({subquery})"], [node_id])

    @staticmethod
    def _one(kind: str, found: list[_Node], node_id: int) -> _Node:
        if not found:
            raise NotFound(f"{kind} {node_id} not found")
        return found[0]

    def _filters(
        self, kind: str, *, ids: Iterable[int] | None, type_name: str | None,
        type_version: str | None, name: str | None, external_id: str | None,
        context_id: int | None, properties: Mapping[str, Any] | None,
        custom_properties: Mapping[str, Any] | None,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if ids is not None:
            where.append("n.id IN (SELECT value FROM json_each(?))")
            params.append(_ids_param(ids))
        if type_name is not None:
            where.append("t.name = ?")
            params.append(type_name)
        if type_version is not None:
            where.append("t.version = ?")
            params.append(type_version)
        for column, value in (("name", name), ("external_id", external_id)):
            if value is not None:
                where.append(f"n.{column} = ?")
                params.append(value)
        if context_id is not None:
            table, column = _MEMBERSHIP[kind]
            where.append(f"n.id IN (SELECT {column} FROM {table} WHERE context_id = ?)")
            params.append(context_id)
        # Property filters drive from the property index ((name, string_value)
        # finds executions by cache_fingerprint without scanning them).
        for is_custom, mapping in ((0, properties), (1, custom_properties)):
            for key, value in (mapping or {}).items():
                owners = (f"SELECT p.{kind}_id FROM {kind}_property AS p "
                          "WHERE p.name = ? AND p.is_custom = ?")
                if value is None:
                    where.append(f"n.id NOT IN ({owners})")
                    params += [key, is_custom]
                else:
                    condition, values = match(value)
                    where.append(f"n.id IN ({owners} AND {condition})")
                    params += [key, is_custom, *values]
        return where, params

    def _get_nodes(
        self, kind: str, where: list[str], params: list[Any], order_by: str,
        descending: bool, limit: int | None, offset: int,
    ) -> list[Any]:
        with self._read() as conn:
            return self._select_nodes(
                conn, kind, where, params, order_by=order_by, descending=descending,
                limit=limit, offset=offset,
            )

    def _select_nodes(
        self, conn: sqlite3.Connection, kind: str, where: list[str], params: list[Any], *,
        order_by: str = "id", descending: bool = False, limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]:
        if order_by not in _ORDER_COLUMNS:
            raise BadRequest(f"order_by must be one of {sorted(_ORDER_COLUMNS)}, not {order_by!r}")
        extra = _NODE_EXTRA[kind]
        columns = ["n.id", "n.type_id", "t.name", "n.name", "n.external_id",
                   "n.create_time_since_epoch", "n.last_update_time_since_epoch",
                   *(f"n.{column}" for column, _, _ in extra)]
        sql = f"SELECT {', '.join(columns)} FROM {kind} AS n JOIN type AS t ON t.id = n.type_id"
        if where:
            sql += " WHERE " + " AND ".join(f"({w})" for w in where)
        direction = "DESC" if descending else "ASC"
        sql += f" ORDER BY n.{order_by} {direction}, n.id {direction}"
        params = list(params)
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else limit, offset]
        cls = _NODE_CLASSES[kind]
        nodes = []
        for row in conn.execute(sql, params):
            node = cls(
                id=row[0], type_id=row[1], type=row[2], name=row[3], external_id=row[4],
                create_time_since_epoch=row[5], last_update_time_since_epoch=row[6],
            )
            for (_, attr, enum), value in zip(extra, row[7:], strict=True):
                setattr(node, attr, value if enum is None else enum(value))
            nodes.append(node)
        by_id = {node.id: node for node in nodes}
        if by_id:
            for owner, prop, is_custom, data_type, *values in conn.execute(
                f"SELECT {kind}_id, name, is_custom, data_type, {', '.join(VALUE_COLUMNS)} "
                f"FROM {kind}_property WHERE {kind}_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY name",
                (_ids_param(by_id),),
            ):
                target = by_id[owner].custom_properties if is_custom else by_id[owner].properties
                target[prop] = decode(data_type, values)
        return nodes

    # Edges -------------------------------------------------------------------

    def put_events(self, events: Sequence[Event]) -> None:
        """Record events; each joins an existing artifact and execution.

        A second event of the same ``(artifact_id, execution_id, type)`` is
        :class:`AlreadyExists`.
        """
        with self._write() as tx:
            now = self._now_ms()
            for event in events:
                self._put_event(tx, event, now)

    def _put_event(
        self, tx: _Tx, event: Event, now: int, *, artifact_id: int | None = None,
        execution_id: int | None = None,
    ) -> None:
        artifact_id = event.artifact_id if artifact_id is None else artifact_id
        execution_id = event.execution_id if execution_id is None else execution_id
        if artifact_id is None or execution_id is None:
            raise BadRequest("event: artifact_id and execution_id are required")
        if event.type is EventType.UNKNOWN:
            raise BadRequest(
                f"event of artifact {artifact_id} and execution {execution_id}: type is required"
            )
        for step in event.path:
            if isinstance(step, bool) or not isinstance(step, (str, int)):
                raise BadRequest(f"event path step {step!r} is neither a key (str) nor an index")
        self._require(tx.conn, "artifact", [artifact_id])
        self._require(tx.conn, "execution", [execution_id])
        if tx.execute(
            "SELECT 1 FROM event WHERE artifact_id = ? AND execution_id = ? AND type = ?",
            (artifact_id, execution_id, int(event.type)),
        ).fetchone():
            raise AlreadyExists(
                f"event {event.type.name} of artifact {artifact_id} and execution "
                f"{execution_id} already exists"
            )
        when = now if event.milliseconds_since_epoch is None else event.milliseconds_since_epoch
        event_id = tx.execute(
            "INSERT INTO event (artifact_id, execution_id, type, milliseconds_since_epoch) "
            "VALUES (?, ?, ?, ?)",
            (artifact_id, execution_id, int(event.type), when),
        ).lastrowid
        tx.conn.executemany(
            "INSERT INTO event_path (event_id, position, step_index, step_key) VALUES (?, ?, ?, ?)",
            [
                (event_id, position, None if isinstance(step, str) else step,
                 step if isinstance(step, str) else None)
                for position, step in enumerate(event.path)
            ],
        )

        def fill() -> None:
            event.artifact_id, event.execution_id = artifact_id, execution_id
            event.milliseconds_since_epoch = when

        tx.after_commit.append(fill)

    def get_events_by_execution_ids(self, ids: Iterable[int]) -> list[Event]:
        """The events of these executions, oldest first."""
        return self._select_events("execution_id", ids)

    def get_events_by_artifact_ids(self, ids: Iterable[int]) -> list[Event]:
        """The events of these artifacts, oldest first."""
        return self._select_events("artifact_id", ids)

    def _select_events(self, column: str, ids: Iterable[int]) -> list[Event]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, artifact_id, execution_id, type, milliseconds_since_epoch FROM event "
                f"WHERE {column} IN (SELECT value FROM json_each(?)) ORDER BY id",
                (_ids_param(ids),),
            ).fetchall()
            paths: dict[int, list[str | int]] = {row[0]: [] for row in rows}
            for event_id, step_index, step_key in conn.execute(
                "SELECT event_id, step_index, step_key FROM event_path "
                "WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY event_id, position",
                (_ids_param(paths),),
            ):
                paths[event_id].append(step_key if step_key is not None else step_index)
        return [
            Event(artifact_id=artifact_id, execution_id=execution_id, type=EventType(kind),
                  path=tuple(paths[event_id]), milliseconds_since_epoch=when)
            for event_id, artifact_id, execution_id, kind, when in rows
        ]

    def put_attributions_and_associations(
        self,
        attributions: Sequence[Attribution] = (),
        associations: Sequence[Association] = (),
    ) -> None:
        """Make artifacts and executions members of contexts (existing links are kept)."""
        with self._write() as tx:
            self._link(tx, attributions, associations)

    def _link(
        self, tx: _Tx, attributions: Sequence[Attribution], associations: Sequence[Association]
    ) -> None:
        self._require(tx.conn, "artifact", [a.artifact_id for a in attributions])
        self._require(tx.conn, "execution", [a.execution_id for a in associations])
        self._require(tx.conn, "context", [a.context_id for a in (*attributions, *associations)])
        tx.conn.executemany(
            "INSERT OR IGNORE INTO attribution (context_id, artifact_id) VALUES (?, ?)",
            [(a.context_id, a.artifact_id) for a in attributions],
        )
        tx.conn.executemany(
            "INSERT OR IGNORE INTO association (context_id, execution_id) VALUES (?, ?)",
            [(a.context_id, a.execution_id) for a in associations],
        )

    def put_parent_contexts(self, parent_contexts: Sequence[ParentContext]) -> None:
        """Link child contexts to parents; a duplicate is :class:`AlreadyExists`, a cycle
        :class:`BadRequest`."""
        with self._write() as tx:
            for link in parent_contexts:
                self._require(tx.conn, "context", [link.child_id, link.parent_id])
                if link.child_id == link.parent_id:
                    raise BadRequest(f"context {link.child_id} cannot be its own parent")
                if tx.execute(
                    "SELECT 1 FROM parent_context WHERE context_id = ? AND parent_context_id = ?",
                    (link.child_id, link.parent_id),
                ).fetchone():
                    raise AlreadyExists(
                        f"context {link.parent_id} is already a parent of context {link.child_id}"
                    )
                cycle = tx.execute(
                    "WITH RECURSIVE ancestor(id) AS (SELECT ? UNION "
                    "SELECT p.parent_context_id FROM parent_context AS p "
                    "JOIN ancestor ON p.context_id = ancestor.id) "
                    "SELECT 1 FROM ancestor WHERE id = ?",
                    (link.parent_id, link.child_id),
                ).fetchone()
                if cycle:
                    raise BadRequest(
                        f"making context {link.parent_id} a parent of {link.child_id} "
                        "would make a cycle"
                    )
                tx.execute(
                    "INSERT INTO parent_context (context_id, parent_context_id) VALUES (?, ?)",
                    (link.child_id, link.parent_id),
                )

    @staticmethod
    def _require(conn: sqlite3.Connection, kind: str, ids: Sequence[int]) -> None:
        wanted = set(ids)
        if not wanted:
            return
        found = {
            row[0]
            for row in conn.execute(
                f"SELECT id FROM {kind} WHERE id IN (SELECT value FROM json_each(?))",
                (_ids_param(wanted),),
            )
        }
        missing = sorted(wanted - found)
        if missing:
            raise NotFound(f"{kind} {', '.join(map(str, missing))} not found")

    # The atomic combination ----------------------------------------------------

    def put_execution(
        self,
        execution: Execution,
        artifact_and_events: Sequence[tuple[Artifact | None, Event | None]] = (),
        contexts: Sequence[Context | int] = (),
        *,
        reuse_context_if_already_exist: bool = False,
    ) -> tuple[int, list[int], list[int]]:
        """Record an execution with its artifacts, events and contexts in one transaction.

        Puts (inserts or updates) ``execution``; for each pair puts the
        artifact (``None``: the event's ``artifact_id`` names a stored one) and
        records the event between it and the execution; puts each context (an
        ``int`` is the id of a stored context, linked but not rewritten; with
        ``reuse_context_if_already_exist`` a new context whose type and name
        exist is the stored one); attributes every artifact and associates the
        execution with every context. All of it or nothing.

        Returns ``(execution_id, artifact_ids, context_ids)``.
        """
        with self._write() as tx:
            now = self._now_ms()
            execution_id = self._put_node(tx, "execution", execution, now)
            artifact_ids: list[int] = []
            for artifact, event in artifact_and_events:
                if artifact is not None:
                    artifact_id = self._put_node(tx, "artifact", artifact, now)
                elif event is not None and event.artifact_id is not None:
                    artifact_id = event.artifact_id
                else:
                    raise BadRequest("put_execution: a pair needs an artifact or an event with "
                                     "artifact_id")
                if event is not None:
                    if event.artifact_id not in (None, artifact_id):
                        raise BadRequest(f"event names artifact {event.artifact_id}, "
                                         f"paired with artifact {artifact_id}")
                    if event.execution_id not in (None, execution_id):
                        raise BadRequest(f"event names execution {event.execution_id}, "
                                         f"not {execution_id}")
                    self._put_event(tx, event, now, artifact_id=artifact_id,
                                    execution_id=execution_id)
                artifact_ids.append(artifact_id)
            context_ids: list[int] = []
            for context in contexts:
                if isinstance(context, int):
                    self._require(tx.conn, "context", [context])
                    context_ids.append(context)
                    continue
                existing = None
                if context.id is None and reuse_context_if_already_exist:
                    existing = self._find_context(tx, context)
                if existing is not None:
                    tx.after_commit.append(lambda c=context, e=existing: _copy_into(c, e))
                    context_ids.append(existing.id)
                else:
                    context_ids.append(self._put_node(tx, "context", context, now))
            self._link(
                tx,
                [Attribution(a, c) for c in context_ids for a in artifact_ids],
                [Association(execution_id, c) for c in context_ids],
            )
        return execution_id, artifact_ids, context_ids

