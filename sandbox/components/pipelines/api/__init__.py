"""Kubeflow Pipelines: api (being built)."""
