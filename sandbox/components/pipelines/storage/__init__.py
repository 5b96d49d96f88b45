"""Kubeflow Pipelines: storage (being built)."""
