"""Probe handlers (exec, httpGet, tcpSocket) and the prober's timing and thresholds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator

import pytest

from sandbox.clock import FakeClock
from sandbox.cluster.kubelet.probes import (
    PROBE_KINDS,
    ContainerProbes,
    ProbeKind,
    ProbeResult,
    ProbeTarget,
)
from sandbox.cluster.kubelet.probes.exec_command import EXEC
from sandbox.cluster.kubelet.probes.http_get import HTTP_GET
from sandbox.cluster.kubelet.probes.tcp_socket import TCP_SOCKET

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def target(**container):
    return ProbeTarget(container={"name": "c", **container}, pod_ip="127.0.0.1", env=ENV)


@contextlib.asynccontextmanager
async def http_server(status: int) -> AsyncIterator[int]:
    seen: list[bytes] = []

    async def answer(reader, writer):
        try:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
        except asyncio.IncompleteReadError:  # a TCP probe connects and leaves
            writer.close()
            return
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, seen
    finally:
        server.close()
        await server.wait_closed()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_exec_succeeds_on_exit_zero_and_reports_output_otherwise():
    assert (await EXEC.run({"command": ["true"]}, target())).success
    result = await EXEC.run({"command": ["sh", "-c", "echo not ok; exit 3"]}, target())
    assert result == ProbeResult(False, "not ok\n")


@pytest.mark.parametrize(("status", "success"), [(200, True), (302, True), (503, False)])
async def test_http_get_succeeds_from_200_to_399(status, success):
    async with http_server(status) as (port, seen):
        action = {"port": port, "path": "/healthz", "httpHeaders": [{"name": "X-Probe", "value": "1"}]}
        result = await HTTP_GET.run(action, target())
    assert result.success is success
    if not success:
        assert result.message == "HTTP probe failed with statuscode: 503"
    request = seen[0].decode()
    assert request.startswith("GET /healthz HTTP/1.1\r\n")
    assert "User-Agent: kube-probe/1.31\r\n" in request and "X-Probe: 1\r\n" in request


async def test_http_get_on_a_closed_port_says_connection_refused():
    port = free_port()
    result = await HTTP_GET.run({"port": port, "path": "/"}, target())
    assert result.message == (
        f'Get "http://127.0.0.1:{port}/": dial tcp 127.0.0.1:{port}: connect: connection refused')


async def test_tcp_socket_and_named_ports():
    async with http_server(200) as (port, _):
        container = {"ports": [{"name": "web", "containerPort": port}]}
        assert (await TCP_SOCKET.run({"port": "web"}, target(**container))).success
    closed = free_port()
    result = await TCP_SOCKET.run({"port": closed}, target())
    assert result.message == f"dial tcp 127.0.0.1:{closed}: connect: connection refused"


class Scripted:
    """A probe kind whose answers are scripted by the test."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.calls = 0

    def kind(self) -> ProbeKind:
        async def run(action, probe_target):
            self.calls += 1
            ok = self.answers.pop(0) if self.answers else True
            return ProbeResult(ok, "" if ok else f"failure {self.calls}")

        return ProbeKind(run=run, timed_out=lambda *_: "timed out")


class Recorder:
    def __init__(self) -> None:
        self.changes = 0
        self.unhealthy: list[tuple[str, str]] = []
        self.gave_up: list[str] = []
        self.unsupported: list[tuple[str, str]] = []

    def probes(self, container, clock, kinds) -> ContainerProbes:
        async def unhealthy(kind, message):
            self.unhealthy.append((kind, message))

        async def give_up(kind):
            self.gave_up.append(kind)

        async def unsupported(kind, handler):
            self.unsupported.append((kind, handler))

        def changed():
            self.changes += 1

        return ContainerProbes(
            ProbeTarget(container={"name": "c", **container}, pod_ip="127.0.0.1"),
            clock=clock, kinds=kinds, on_change=changed, on_unhealthy=unhealthy,
            on_give_up=give_up, on_unsupported=unsupported,
        )


def probe(action=None, **fields):
    return {**(action or {"exec": {"command": ["x"]}}), "periodSeconds": 10, "timeoutSeconds": 1,
            "successThreshold": 1, "failureThreshold": 3, **fields}


async def test_readiness_starts_false_and_follows_its_thresholds():
    clock = FakeClock()
    script = Scripted(False, True, True, False, False)
    recorder = Recorder()
    probes = recorder.probes({"readinessProbe": probe(initialDelaySeconds=5, successThreshold=2,
                                                      failureThreshold=2)},
                             clock, {"exec": script.kind()})
    probes.start()
    assert probes.started and not probes.ready
    await clock.advance(4)
    assert script.calls == 0  # initialDelaySeconds
    await clock.advance(1)
    assert script.calls == 1 and not probes.ready
    await clock.advance(10)
    assert not probes.ready  # one success of two
    await clock.advance(10)
    assert probes.ready
    await clock.advance(10)
    assert probes.ready  # one failure of two
    await clock.advance(10)
    assert not probes.ready
    assert [kind for kind, _ in recorder.unhealthy] == ["Readiness"] * 3
    await probes.stop()


async def test_liveness_gives_up_after_failure_threshold_in_a_row():
    clock = FakeClock()
    script = Scripted(False, True, False, False, False)
    recorder = Recorder()
    probes = recorder.probes({"livenessProbe": probe()}, clock, {"exec": script.kind()})
    probes.start()
    assert probes.ready  # no readiness probe: ready once started
    for _ in range(4):
        await clock.advance(10)
    assert recorder.gave_up == ["Liveness"]
    assert recorder.unhealthy[-1] == ("Liveness", "failure 5")
    await probes.stop()


async def test_startup_gates_liveness_and_readiness():
    clock = FakeClock()
    startup, liveness = Scripted(False, False, True), Scripted()
    recorder = Recorder()
    probes = recorder.probes(
        {"startupProbe": probe(), "livenessProbe": probe({"httpGet": {"port": 1}})},
        clock, {"exec": startup.kind(), "httpGet": liveness.kind()},
    )
    probes.start()
    await asyncio.sleep(0)
    assert not probes.started and not probes.ready
    await clock.advance(20)
    assert probes.started and probes.ready and liveness.calls == 1
    assert startup.calls == 3
    await probes.stop()


async def test_a_check_that_outlives_its_timeout_fails():
    clock = FakeClock()
    recorder = Recorder()

    async def hang(action, probe_target):
        await asyncio.Event().wait()

    kinds = {"exec": ProbeKind(run=hang, timed_out=lambda *_: 'command "x" timed out')}
    probes = recorder.probes({"livenessProbe": probe(failureThreshold=1, timeoutSeconds=2)}, clock, kinds)
    probes.start()
    await clock.advance(2)
    assert recorder.unhealthy == [("Liveness", 'command "x" timed out')]
    assert recorder.gave_up == ["Liveness"]


async def test_an_unsupported_probe_kind_is_reported_once_and_passes():
    clock = FakeClock()
    recorder = Recorder()
    probes = recorder.probes({"readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 1}},
                             clock, PROBE_KINDS)
    probes.start()
    await clock.advance(3)
    assert probes.ready
    assert recorder.unsupported == [("Readiness", "grpc")]
    await probes.stop()
