"""The scenario engine (issue: Scenario engine).

Empty for now: the layer contracts in pyproject.toml already hold its place.
"""
