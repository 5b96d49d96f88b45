"""Kubeflow Pipelines: executor (being built)."""
