"""The web dashboard (later issue).

Empty for now: the layer contracts in pyproject.toml already hold its place.
"""
