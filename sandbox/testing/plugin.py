"""The pytest plugin: a sandbox cluster per test session, a namespace per test.

Registered as the ``pytest11`` entry point ``sandbox``, so installing
kf-sandbox makes these fixtures available to any test suite::

    async def test_configmap_round_trip(client, namespace):
        await client.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "c"}, "data": {"k": "v"}},
                            namespace=namespace)
        assert (await client.get("v1", "ConfigMap", "c", namespace=namespace))["data"] == {"k": "v"}

Options:

``--sandbox-backend inprocess|kubeconfig``
    ``inprocess`` (default) starts an :class:`InProcessCluster` in a session
    temporary home; ``kubeconfig`` talks to whatever cluster a kubeconfig
    names (``sandbox up``'s, or a real one) through :class:`KubeClient`.
``--sandbox-cluster NAME|FILE``
    The cluster file of the in-process cluster (``default``).
``--sandbox-kubeconfig PATH``
    The kubeconfig of the ``kubeconfig`` backend (default: ``$KUBECONFIG``,
    then ``~/.kube/config``).
``--keep-cluster``
    Leave the cluster running after the session. An in-process cluster lives
    in pytest's own process and cannot outlive it, so with the ``inprocess``
    backend this option runs the tests on a ``sandbox up`` daemon instead
    (the one of ``$SANDBOX_HOME``/``~/.kf-sandbox``, started if none runs,
    on any free ports) and leaves it up; the terminal summary says how to
    connect to it and how to stop it.

Why a thread: pytest-asyncio gives every test its own event loop, while a
cluster must live for the whole session on one loop (its controllers,
kubelets and watches are tasks of that loop). Rather than asking every test
to run on a session-scoped loop, the cluster — or the ``KubeClient``, whose
connections are bound to a loop too — runs on a loop of its own in a
background thread, and tests get a :class:`ThreadsafeClient` whose coroutines
and streams (``watch``, ``follow_logs``) hop to that loop and back. Tests may
therefore use any loop scope, and the fixtures themselves are synchronous:
they need no pytest-asyncio mode.

Data flow::

    test (its own loop) ─► ThreadsafeClient ─► cluster loop (thread) ─► MemoryClient | KubeClient

Scenarios are tests too: every ``scenario.yaml`` pytest meets while
collecting (``pytest scenarios/``) becomes one test item, marked
``scenario``, that runs the whole scenario — on an ephemeral in-process
cluster of the scenario's own cluster file (never the user's daemon), or
with ``--sandbox-backend kubeconfig`` on that cluster, or with
``--keep-cluster`` on the kept daemon. A failure shows the run's plain log:
each step, the failed one's diagnostics (conditions, events, pod logs); the
log is also attached to the test's report (``-rA`` shows it for passes), and
pytest's own ``--junitxml`` records one testcase per scenario. An invalid
scenario file fails its item with the validation problems and their lines.

The heavy modules (the cluster, the HTTP client) are imported inside the
fixtures: this plugin loads in every pytest run of an environment that has
kf-sandbox installed, and should cost nothing until its fixtures are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import string
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from sandbox.backends.inprocess.cluster import InProcessCluster
    from sandbox.client.protocol import Client

__all__ = [
    "CLUSTER_START_TIMEOUT",
    "NAMESPACE_DELETE_TIMEOUT",
    "SandboxCluster",
    "ThreadsafeClient",
    "namespace_name",
]

T = TypeVar("T")

#: Seconds a test's namespace may take to go away (its pods stop gracefully).
NAMESPACE_DELETE_TIMEOUT = 60.0
#: Seconds the session cluster (or a ``--keep-cluster`` daemon) may take to start.
CLUSTER_START_TIMEOUT = 120.0

_BACKENDS = ("inprocess", "kubeconfig")
_SUMMARY = pytest.StashKey[list[str]]()
_END = object()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandbox", "kf-sandbox cluster for tests")
    group.addoption("--sandbox-backend", choices=_BACKENDS, default="inprocess",
                    help="where the sandbox_cluster fixture runs tests (default: inprocess)")
    group.addoption("--sandbox-cluster", default="default", metavar="NAME|FILE",
                    help="cluster name or file of the in-process cluster (default: default)")
    group.addoption("--sandbox-kubeconfig", default=None, metavar="PATH",
                    help="kubeconfig of the kubeconfig backend (default: $KUBECONFIG, ~/.kube/config)")
    group.addoption("--keep-cluster", action="store_true",
                    help="leave the cluster running after the session (inprocess: a `sandbox up` daemon)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SUMMARY] = []
    config.addinivalue_line("markers", "scenario: a scenarios/<name>/scenario.yaml run as a test")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_SUMMARY, [])
    if lines:
        terminalreporter.section("sandbox cluster kept")
        for line in lines:
            terminalreporter.write_line(line)


# The cluster loop ------------------------------------------------------------------------


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sandbox-cluster",
                                        daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it is done (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


class ThreadsafeClient:
    """The client protocol, usable from any event loop: every call runs on the cluster's.

    Coroutine methods are forwarded and awaited through a future; ``watch``
    and ``follow_logs`` are pumped from the cluster loop into a queue of the
    caller's loop, and closing the caller's iterator stops the pump. Other
    attributes are the wrapped client's own (``inner``). ``close`` does
    nothing: the session owns the client.
    """

    _STREAMS = frozenset({"watch", "follow_logs"})

    def __init__(self, inner: Client, *, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = inner
        self.loop = loop

    def __repr__(self) -> str:
        return f"ThreadsafeClient({self.inner!r})"

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the cluster's loop (for objects that live there)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def close(self) -> None:
        """The session fixture closes the real client."""

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name in self._STREAMS:
            return lambda *args, **kwargs: self._stream(lambda: attribute(*args, **kwargs))
        if asyncio.iscoroutinefunction(attribute):
            async def forwarded(*args: Any, **kwargs: Any) -> Any:
                return await self.run(attribute(*args, **kwargs))
            return forwarded
        return attribute

    async def _stream(self, open_stream: Callable[[], AsyncIterator[Any]]) -> AsyncIterator[Any]:
        caller = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()

        def post(item: Any, error: BaseException | None = None) -> None:
            with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody reads
                caller.call_soon_threadsafe(queue.put_nowait, (item, error))

        async def pump() -> None:
            stream = open_stream()
            try:
                async for item in stream:
                    post(item)
            except Exception as err:
                post(_END, err)
            else:
                post(_END)
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()

        future = asyncio.run_coroutine_threadsafe(pump(), self.loop)
        try:
            while True:
                item, error = await queue.get()
                if error is not None:
                    raise error
                if item is _END:
                    return
                yield item
        finally:
            future.cancel()


# The session cluster ---------------------------------------------------------------------


@dataclass
class SandboxCluster:
    """What the ``sandbox_cluster`` fixture gives a test session.

    ``cluster`` is the in-process cluster (``inprocess`` backend without
    ``--keep-cluster``), else None. It lives on the cluster loop: touch its
    asynchronous parts only through ``await client.run(coro)``.
    ``kubeconfig`` is the kubeconfig file when one was named (``--sandbox-kubeconfig``)
    or started (``--keep-cluster``).
    """

    backend: str
    client: ThreadsafeClient
    cluster: InProcessCluster | None = None
    kubeconfig: Path | None = None


@pytest.fixture(scope="session")
def sandbox_cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxCluster]:
    """The session's cluster (see the module docstring for the options)."""
    options = request.config.option
    runner = _LoopThread()
    try:
        if options.sandbox_backend == "kubeconfig":
            yield from _kubeconfig_cluster(runner, options.sandbox_kubeconfig,
                                           backend="kubeconfig")
        elif options.keep_cluster:
            kubeconfig = _kept_daemon(request.config, cluster=options.sandbox_cluster)
            yield from _kubeconfig_cluster(runner, str(kubeconfig), backend="inprocess")
        else:
            yield from _inprocess_cluster(runner, options.sandbox_cluster,
                                          home=tmp_path_factory.mktemp("sandbox-home"))
    finally:
        runner.close()


def _kubeconfig_cluster(
    runner: _LoopThread, path: str | None, *, backend: str
) -> Iterator[SandboxCluster]:
    from sandbox.client.kube import KubeClient

    async def connect() -> KubeClient:  # its connection pool belongs to the cluster loop
        return KubeClient.from_kubeconfig(path)

    client = runner.call(connect())
    try:
        yield SandboxCluster(backend=backend,
                             client=ThreadsafeClient(client, loop=runner.loop),
                             kubeconfig=Path(path) if path else None)
    finally:
        runner.call(client.close(), timeout=30)


def _inprocess_cluster(runner: _LoopThread, cluster: str, *, home: Path) -> Iterator[SandboxCluster]:
    from sandbox.backends.inprocess.cluster import InProcessCluster

    started: asyncio.Future[InProcessCluster] = runner.loop.create_future()
    stop = asyncio.Event()

    async def serve() -> None:
        # One task enters and leaves the cluster's context: its clean-up may
        # rely on running in the task that started it.
        try:
            async with InProcessCluster.start(cluster, home=home) as running:
                started.set_result(running)
                await stop.wait()
        except BaseException as err:
            if not started.done():
                started.set_exception(err)
            raise

    async def begin() -> asyncio.Task[None]:
        return asyncio.create_task(serve(), name="sandbox-session-cluster")

    async def wait_started() -> InProcessCluster:
        return await started

    task = runner.call(begin())
    running = runner.call(wait_started(), timeout=CLUSTER_START_TIMEOUT)

    async def shut_down() -> None:
        stop.set()
        await task

    try:
        yield SandboxCluster(backend="inprocess",
                             client=ThreadsafeClient(running.client, loop=runner.loop),
                             cluster=running)
    finally:
        runner.call(shut_down(), timeout=CLUSTER_START_TIMEOUT)


def _kept_daemon(config: pytest.Config, *, cluster: str) -> Path:
    """The kubeconfig of the home's daemon, started (on free ports) if none runs."""
    from sandbox.backends.inprocess.control import (
        DaemonHome,
        cluster_ref,
        find_daemon,
        start_daemon,
    )

    home = DaemonHome.resolve()
    running = find_daemon(home)
    if running is not None and running.info is not None:
        info = running.info
        verb = "reused the running"
    else:
        info = start_daemon(home, cluster=home.recorded_cluster() or cluster_ref(cluster),
                            port=0, web_port=0, timeout=CLUSTER_START_TIMEOUT)
        verb = "started a"
    config.stash[_SUMMARY].extend([
        f"{verb} sandbox daemon in {home.path} (pid {info.pid}); it keeps running.",
        f"  connect: export KUBECONFIG={info.kubeconfig}   (API {info.api_url}, web {info.web_url})",
        f"  stop:    sandbox down --home {home.path}",
    ])
    return Path(info.kubeconfig)


# Per-test fixtures -----------------------------------------------------------------------


@pytest.fixture
def client(sandbox_cluster: SandboxCluster) -> ThreadsafeClient:
    """The session cluster's client, usable from the test's event loop."""
    return sandbox_cluster.client


def namespace_name(test_name: str) -> str:
    """``test-<name>-<5 random chars>``, a valid Namespace name (a DNS label)."""
    name = re.sub(r"^test_?", "", test_name.lower())
    name = re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:52].rstrip("-")
    suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
    return f"test-{name}-{suffix}" if name else f"test-{suffix}"


@pytest.fixture
def namespace(request: pytest.FixtureRequest, sandbox_cluster: SandboxCluster) -> Iterator[str]:
    """A fresh Namespace for one test; deleted afterwards, waiting (bounded) until it is gone."""
    from sandbox.api.errors import NotFound

    client = sandbox_cluster.client.inner
    call = _caller(sandbox_cluster)
    name = namespace_name(request.node.name)
    call(client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    yield name
    with contextlib.suppress(NotFound):
        call(client.delete("v1", "Namespace", name))
    call(client.wait_for("v1", "Namespace", name, deleted=True,
                         timeout=NAMESPACE_DELETE_TIMEOUT))


def _caller(cluster: SandboxCluster) -> Callable[[Coroutine[Any, Any, T]], T]:
    loop = cluster.client.loop

    def call(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(NAMESPACE_DELETE_TIMEOUT + 30)
    return call


# Scenarios as tests ----------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name == "scenario.yaml":
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """A ``scenario.yaml``: one item, named after the scenario (or its folder when invalid)."""

    def collect(self) -> Iterator[pytest.Item]:
        from sandbox.scenario.format import parse_scenario

        scenario, _ = parse_scenario(self.path.read_text(encoding="utf-8"))
        name = scenario.name if scenario is not None else self.path.parent.name
        item = ScenarioItem.from_parent(self, name=name)
        item.add_marker("scenario")
        yield item


class ScenarioFailed(Exception):
    """A scenario that did not pass; the message is its plain log."""


class ScenarioItem(pytest.Item):
    """Runs one scenario (see the module docstring)."""

    def runtest(self) -> None:
        import io

        from sandbox.scenario.catalog import ScenarioEntry
        from sandbox.scenario.format import parse_scenario
        from sandbox.scenario.reporting import PlainReporter
        from sandbox.scenario.session import run_entry

        path = Path(self.path)
        scenario, problems = parse_scenario(path.read_text(encoding="utf-8"))
        if scenario is None:
            raise ScenarioFailed("\n".join(p.format(path) for p in problems))
        options = self.config.option
        kubeconfig: Path | None = None
        if options.sandbox_backend == "kubeconfig":
            from sandbox.client.kubeconfig import kubeconfig_paths

            kubeconfig = Path(options.sandbox_kubeconfig or kubeconfig_paths()[0])
        elif options.keep_cluster:
            kubeconfig = _kept_daemon(self.config, cluster=options.sandbox_cluster)
        log = io.StringIO()
        result, _ = asyncio.run(run_entry(
            ScenarioEntry(path=path, scenario=scenario), reporter=PlainReporter(log),
            kubeconfig=kubeconfig, ephemeral=kubeconfig is None))
        if not result.ok:
            raise ScenarioFailed(log.getvalue())
        self.add_report_section("call", "scenario", log.getvalue())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return f"scenario {self.name} failed:\n{excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(self.path), 0, f"scenario: {self.name}"
