"""The api layer: data only, no I/O.

Kinds and their names, object helpers, quantities, selectors, patches and
OpenAPI schemas with validation and defaulting. Everything above builds on
these plain functions and dataclasses.
"""
