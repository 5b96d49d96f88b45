"""Listening sockets for the daemon's HTTP servers (API and web), loopback only.

``IPPROTO_TCP`` is passed explicitly: asyncio sets TCP_NODELAY only on
sockets whose ``proto`` says TCP, and without it Nagle's algorithm holds each
response body until the client's delayed ACK of the headers (~40 ms a
request).
"""

from __future__ import annotations

import socket

__all__ = ["bind"]


def bind(host: str, port: int, *, backlog: int = 512) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: any free port); an ``OSError``
    naming the address when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise OSError(err.errno, f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(backlog)
    sock.set_inheritable(False)
    return sock
