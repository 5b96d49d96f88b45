"""The directory the kubelet puts on a Python container's ``PYTHONPATH``.

It is a package only so that it ships with the sandbox; what matters is
``sitecustomize.py``, which the interpreter imports at startup. Nothing else
may live here: every module in this directory shadows one of that name for
the container's program.
"""
