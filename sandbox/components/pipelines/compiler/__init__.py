"""Kubeflow Pipelines: compiler (being built)."""
