"""Kubeflow Pipelines: dsl (being built)."""
