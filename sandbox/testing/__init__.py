"""Testing with kf-sandbox: the pytest plugin and its helpers.

- :mod:`sandbox.testing.plugin` — the pytest plugin (``pytest11`` entry point
  ``sandbox``): a session ``sandbox_cluster``, a per-test ``namespace`` and a
  ``client``; see its docstring for the options and why the cluster runs on a
  thread of its own. Collecting ``scenarios/*/scenario.yaml`` as test items
  comes with the scenario engine.
- :mod:`sandbox.testing.asgi` — an httpx transport that streams an ASGI app's
  answer, for testing HTTP faces without sockets.

Nothing is imported here, so loading the plugin stays cheap.
"""
