"""Imported by the interpreter at startup of a Python container (see :mod:`sandbox.podboot`).

Installs the in-cluster path mapping, then runs the ``sitecustomize`` this
one shadows, if any. An interpreter that cannot import the sandbox skips both.
"""

try:
    from sandbox.podboot import chain_sitecustomize, install
except ImportError:
    pass
else:
    install()
    chain_sitecustomize(__file__)
