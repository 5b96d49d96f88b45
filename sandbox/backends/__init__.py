"""Assemble and run a cluster: inprocess and kind (issue Foundation II and the REST issue).

Empty for now: the layer contracts in pyproject.toml already hold its place.
"""
