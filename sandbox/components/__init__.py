"""Kubeflow's components, one package each (later issues).

Empty for now: the layer contracts in pyproject.toml already hold its place.
"""
