"""Wildcard binds in a pod listen on the pod's IP, so two pods can serve the same port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from sandbox.podboot import STARTUP_DIR
from sandbox.podboot.binding import rewrite_address

POD_IP = "127.16.9.2"


def test_ipv4_wildcards_become_the_pod_ip_and_other_addresses_stay():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert rewrite_address(sock, ("", 8080), POD_IP) == (POD_IP, 8080)
        assert rewrite_address(sock, ("0.0.0.0", 8080), POD_IP) == (POD_IP, 8080)
        assert rewrite_address(sock, ("127.0.0.1", 8080), POD_IP) == ("127.0.0.1", 8080)


def test_a_dual_stack_ipv6_wildcard_becomes_the_mapped_pod_ip_and_a_v6_only_one_stays():
    if not socket.has_ipv6:
        return
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return  # no IPv6 on this machine: nothing to rewrite
    with sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        assert rewrite_address(sock, ("::", 80, 0, 0), POD_IP) == (f"::ffff:{POD_IP}", 80, 0, 0)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        assert rewrite_address(sock, ("::", 80, 0, 0), POD_IP) == ("::", 80, 0, 0)


PROGRAM = """
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[1])))
server.listen()
print(server.getsockname()[0], flush=True)
sys.stdin.read()
"""


def _pod(pod_ip: str, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "SANDBOX_POD_IP": pod_ip,
           "PYTHONPATH": os.pathsep.join([str(STARTUP_DIR), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", PROGRAM, str(port)], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_pods_binding_the_wildcard_on_one_port_each_get_their_own_address():
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    first, second = _pod("127.16.9.2", port), _pod("127.16.9.3", port)
    try:
        assert first.stdout is not None and second.stdout is not None
        assert first.stdout.readline().strip() == "127.16.9.2", first.stderr
        assert second.stdout.readline().strip() == "127.16.9.3", second.stderr
    finally:
        for process in (first, second):
            process.kill()
            process.communicate()
