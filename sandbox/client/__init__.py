"""The client layer: the one door to a cluster (protocol, in-memory client, real-cluster client)."""

from sandbox.client.protocol import Client, PatchType, WatchEvent

__all__ = ["Client", "PatchType", "WatchEvent"]
