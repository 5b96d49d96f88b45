"""The image catalog: which local program an image reference stands for.

``catalog`` holds the entries and Kubernetes' command/args rules;
``reference`` normalises image references; ``data/`` is the packaged catalog
and its README.
"""
