"""Imported by the interpreter at startup of a Python container (see :mod:`sandbox.podboot`).

Installs the in-cluster path mapping and the wildcard-bind rewrite
(:mod:`sandbox.podboot.binding`), then runs the ``sitecustomize`` this one
shadows, if any. An interpreter that cannot import the sandbox skips all three.
"""

try:
    from sandbox.podboot import chain_sitecustomize, install
    from sandbox.podboot.binding import install_bind_rewrite
except ImportError:
    pass
else:
    install()
    install_bind_rewrite()
    chain_sitecustomize(__file__)
