"""Kubeflow Pipelines: graph (being built)."""
