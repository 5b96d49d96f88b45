"""The SQLite schema of the metadata store.

The tables follow MLMD's own relational schema (``Type``, ``TypeProperty``,
``Artifact``/``Execution``/``Context`` with one ``*Property`` table each,
``Event`` with ``EventPath``, ``Attribution``, ``Association``,
``ParentContext``), so a reader who knows MLMD's MySQL tables knows these:

* ``type`` holds the three kinds of type, told apart by ``kind`` (MLMD's
  ``TypeKind``: 0 execution, 1 artifact, 2 context). ``version`` is ``''`` when
  unset so that ``UNIQUE (kind, name, version)`` holds (SQLite treats NULLs as
  distinct).
* each node table has ``UNIQUE (type_id, name)`` (names are optional for
  artifacts and executions — NULLs never collide) and a unique ``external_id``.
* a property row stores one typed value: ``data_type`` (a
  :class:`~.model.PropertyType`) says which column holds it. Structs are
  canonical JSON text (sorted keys) so equality filters compare them; a NULL
  ``double_value`` under ``DOUBLE`` is NaN (SQLite stores NaN as NULL).
* ``event`` is unique per ``(artifact_id, execution_id, type)`` as in MLMD; its
  path steps are rows of ``event_path`` in order.

Indexes serve the queries the pipelines run on every task: executions by
context, events by either end, artifacts by URI, custom properties by
``(name, string_value)`` (the cache looks executions up by
``cache_fingerprint``).

``SCHEMA_VERSION`` is kept in ``PRAGMA user_version``; a file written by a newer
schema is refused rather than misread.
"""

from __future__ import annotations

__all__ = ["NODE_KINDS", "SCHEMA_VERSION", "TYPE_KIND", "ddl"]

SCHEMA_VERSION = 1

#: The three node kinds; each is also its table's name.
NODE_KINDS = ("artifact", "execution", "context")
#: MLMD's TypeKind numbers.
TYPE_KIND = {"execution": 0, "artifact": 1, "context": 2}

_TYPES = """
CREATE TABLE IF NOT EXISTS type (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    version     TEXT    NOT NULL DEFAULT '',
    description TEXT,
    external_id TEXT,
    base_type   INTEGER,
    UNIQUE (kind, name, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS type_external_id ON type (kind, external_id)
    WHERE external_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS type_property (
    type_id   INTEGER NOT NULL REFERENCES type (id),
    name      TEXT    NOT NULL,
    data_type INTEGER NOT NULL,
    PRIMARY KEY (type_id, name)
);
"""

_NODE = """
CREATE TABLE IF NOT EXISTS {kind} (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type_id     INTEGER NOT NULL REFERENCES type (id),
    name        TEXT{name_constraint},
    external_id TEXT UNIQUE,
    {extra}
    create_time_since_epoch      INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL,
    UNIQUE (type_id, name)
);
CREATE TABLE IF NOT EXISTS {kind}_property (
    {kind}_id      INTEGER NOT NULL REFERENCES {kind} (id),
    name           TEXT    NOT NULL,
    is_custom      INTEGER NOT NULL,
    data_type      INTEGER NOT NULL,
    int_value      INTEGER,
    double_value   REAL,
    string_value   TEXT,
    struct_value   TEXT,
    proto_type_url TEXT,
    proto_value    BLOB,
    bool_value     INTEGER,
    PRIMARY KEY ({kind}_id, name, is_custom)
);
CREATE INDEX IF NOT EXISTS {kind}_property_string ON {kind}_property (name, string_value);
"""

_EXTRA = {
    "artifact": "uri TEXT,\n    state INTEGER NOT NULL DEFAULT 0,",
    "execution": "last_known_state INTEGER NOT NULL DEFAULT 0,",
    "context": "",
}

_EDGES = """
CREATE INDEX IF NOT EXISTS artifact_uri ON artifact (uri);
CREATE INDEX IF NOT EXISTS artifact_type ON artifact (type_id);
CREATE INDEX IF NOT EXISTS execution_type ON execution (type_id);
CREATE INDEX IF NOT EXISTS context_type ON context (type_id);
CREATE TABLE IF NOT EXISTS event (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id              INTEGER NOT NULL REFERENCES artifact (id),
    execution_id             INTEGER NOT NULL REFERENCES execution (id),
    type                     INTEGER NOT NULL,
    milliseconds_since_epoch INTEGER NOT NULL,
    UNIQUE (artifact_id, execution_id, type)
);
CREATE INDEX IF NOT EXISTS event_execution ON event (execution_id);
CREATE TABLE IF NOT EXISTS event_path (
    event_id   INTEGER NOT NULL REFERENCES event (id),
    position   INTEGER NOT NULL,
    step_index INTEGER,
    step_key   TEXT,
    PRIMARY KEY (event_id, position)
);
CREATE TABLE IF NOT EXISTS attribution (
    context_id  INTEGER NOT NULL REFERENCES context (id),
    artifact_id INTEGER NOT NULL REFERENCES artifact (id),
    PRIMARY KEY (context_id, artifact_id)
);
CREATE INDEX IF NOT EXISTS attribution_artifact ON attribution (artifact_id);
CREATE TABLE IF NOT EXISTS association (
    context_id   INTEGER NOT NULL REFERENCES context (id),
    execution_id INTEGER NOT NULL REFERENCES execution (id),
    PRIMARY KEY (context_id, execution_id)
);
CREATE INDEX IF NOT EXISTS association_execution ON association (execution_id);
CREATE TABLE IF NOT EXISTS parent_context (
    context_id        INTEGER NOT NULL REFERENCES context (id),
    parent_context_id INTEGER NOT NULL REFERENCES context (id),
    PRIMARY KEY (context_id, parent_context_id)
);
CREATE INDEX IF NOT EXISTS parent_context_parent ON parent_context (parent_context_id);
"""


def ddl() -> list[str]:
    """The statements that create the schema, each safe to run again."""
    script = _TYPES
    for kind in NODE_KINDS:
        script += _NODE.format(
            kind=kind,
            extra=_EXTRA[kind],
            name_constraint=" NOT NULL" if kind == "context" else "",
        )
    script += _EDGES
    return [s.strip() for s in script.split(";") if s.strip()]
