"""The scenario engine: tutorials and smoke tests as validated YAML.

- :mod:`.steps` — the step types (``explain``, ``apply``, ``wait`` …) as
  pydantic models, in the registry ``STEP_TYPES`` that components extend with
  ``register_step``;
- :mod:`.format` — ``scenario.yaml`` as a model: ``load_scenario``,
  ``validate_file`` (problems with line numbers and field paths) and the
  published JSON Schema.

The runner (executing steps against a cluster) is still to come.
"""
