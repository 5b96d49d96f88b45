"""Kubeflow Pipelines: workflow (being built)."""
