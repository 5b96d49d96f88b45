"""kf-sandbox: a local, all-in-one simulation of a Kubeflow platform.

See DESIGN.md (shared) and docs/explanation/architecture.md for the layers:
api → store → client → runtime → cluster → components → backends → faces.
"""

__version__ = "0.1.0"
