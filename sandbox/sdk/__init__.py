"""``sandbox.sdk``: Pythonic entry points per component (being built)."""
