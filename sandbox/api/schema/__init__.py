"""OpenAPI v3 schemas: the built-in kinds' schemas, validation, pruning, defaulting.

Role: everything the API server does with a schema, as plain functions over
dicts, with Kubernetes' paths and messages. No I/O beyond reading the
packaged data file once.

Data flow for a create or update (the store decides the order; this is
Kubernetes' order):

1. custom resources: :func:`prune` (unknown fields removed, their paths
   reported for ``fieldValidation``) and :func:`apply_defaults`; built-in
   kinds: :func:`unknown_fields` for ``fieldValidation=Strict`` and their Go
   defaults (:func:`sandbox.api.validation.default_builtin`);
2. :func:`validate` against the kind's schema (:func:`builtin_schema` for
   built-ins, the CRD's ``openAPIV3Schema`` for custom resources), then the
   Go-coded rules of :mod:`sandbox.api.validation` for built-ins;
3. a CRD itself is checked with :func:`validate_structural`.

Schemas are compiled on first use into checker nodes
(:mod:`sandbox.api.schema.compiled`), cached by the schema dict's identity:
treat schema dicts as immutable.

Modules: :mod:`.builtin` (data file, ``$ref`` resolution, components),
:mod:`.compiled` (checker nodes), :mod:`.validator` (validate,
unknown fields), :mod:`.pruning`, :mod:`.defaulting`, :mod:`.structural`,
:mod:`.gofmt` (Go-style values in messages).
"""

from __future__ import annotations

from sandbox.api.schema.builtin import (
    builtin_schema,
    definition_name,
    gvk_of_definition,
    object_meta_schema,
    openapi_components,
)
from sandbox.api.schema.compiled import compile_schema
from sandbox.api.schema.defaulting import apply_defaults
from sandbox.api.schema.pruning import prune
from sandbox.api.schema.structural import validate_structural
from sandbox.api.schema.validator import type_name, unknown_fields, validate

__all__ = [
    "apply_defaults",
    "builtin_schema",
    "compile_schema",
    "definition_name",
    "gvk_of_definition",
    "object_meta_schema",
    "openapi_components",
    "prune",
    "type_name",
    "unknown_fields",
    "validate",
    "validate_structural",
]
