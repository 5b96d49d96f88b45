"""Fake-only Kubernetes behaviour: scheduler, kubelet, built-in controllers (issue Foundation II).

Empty for now: the layer contracts in pyproject.toml already hold its place.
"""
