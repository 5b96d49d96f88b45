"""The scenario engine: tutorials and smoke tests as validated YAML, run step by step.

- :mod:`.steps` — the step types (``explain``, ``apply``, ``wait`` …) as
  pydantic models, in the registry ``STEP_TYPES`` that components extend with
  ``register_step``;
- :mod:`.format` — ``scenario.yaml`` as a model: ``load_scenario``,
  ``validate_file`` (problems with line numbers and field paths) and the
  published JSON Schema;
- :mod:`.catalog` — finding scenarios by name in the scenario folders;
- :mod:`.executors` — what each step type does, in the registry ``EXECUTORS``
  (``register_executor``), one module per type;
- :mod:`.runner` — a scenario's steps in order against a target, with the
  namespace, run kubeconfig and ``{{ variables }}`` (:mod:`.templating`);
- :mod:`.target` — where it runs: the daemon, or an ephemeral in-process cluster;
- :mod:`.session` — file → target → run → result, shared by the CLI and pytest;
- :mod:`.diagnostics` — why a wait or expectation failed: conditions, events, pod logs;
- :mod:`.reporting` — the terminal (rich / plain), JUnit XML and Markdown faces.

Data flow::

    scenario.yaml ─format─▶ Scenario ─runner─▶ for each step: render ─▶ EXECUTORS[type](spec, ctx)
                                          │                                   │ KubeClient / kubectl / python
                                          ▼                                   ▼
                                     Reporter (live)              Target (daemon | ephemeral cluster)
                                          ▼
                            ScenarioResult ─▶ JUnit XML, Markdown report
"""
