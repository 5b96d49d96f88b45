"""The pytest plugin, driven through pytester: generated test files use its fixtures."""

from __future__ import annotations

import asyncio
import os
from importlib.metadata import entry_points

import pytest

from sandbox.testing.plugin import ThreadsafeClient, namespace_name

pytest_plugins = ["pytester"]

PLUGIN = "sandbox.testing.plugin"


def _plugin_args() -> list[str]:
    """Load the plugin by module unless its entry point already loads it."""
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN]


@pytest.fixture
def sandbox_pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nasyncio_mode = auto\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    return pytester


ROUND_TRIP = """
    import pytest
    from sandbox.api.errors import NotFound

    seen = []

    async def test_configmap_round_trip(client, namespace):
        seen.append(namespace)
        await client.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "c"}, "data": {"k": "v"}},
                            namespace=namespace)
        got = await client.get("v1", "ConfigMap", "c", namespace=namespace)
        assert got["data"] == {"k": "v"}

    async def test_namespace_is_gone_after_its_test(client, sandbox_cluster):
        assert sandbox_cluster.backend == "inprocess"
        with pytest.raises(NotFound):
            await client.get("v1", "Namespace", seen[0])

    async def test_watch_streams_across_loops(client, namespace):
        await client.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "w", "labels": {"app": "w"}}},
                            namespace=namespace)
        stream = client.watch("v1", "ConfigMap", namespace=namespace, label_selector="app=w")
        async for event in stream:
            assert (event.type, event.object["metadata"]["name"]) == ("ADDED", "w")
            break
        await stream.aclose()
"""


def test_generated_tests_use_the_session_cluster_and_a_namespace_per_test(
    sandbox_pytester: pytest.Pytester,
) -> None:
    sandbox_pytester.makepyfile(ROUND_TRIP)
    result = sandbox_pytester.runpytest_subprocess(*_plugin_args())
    result.assert_outcomes(passed=3)


def test_one_cluster_serves_the_whole_session(sandbox_pytester: pytest.Pytester) -> None:
    sandbox_pytester.makepyfile("""
        clusters = []

        def test_first(sandbox_cluster):
            clusters.append(sandbox_cluster.cluster)

        def test_second(sandbox_cluster):
            assert sandbox_cluster.cluster is clusters[0] is not None
    """)
    result = sandbox_pytester.runpytest_subprocess(*_plugin_args())
    result.assert_outcomes(passed=2)


def test_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(*_plugin_args(), "--help")
    result.stdout.fnmatch_lines(["*--sandbox-backend={inprocess,kubeconfig}*",
                                 "*--sandbox-cluster=NAME|FILE*", "*--sandbox-kubeconfig=PATH*",
                                 "*--keep-cluster*"])


def test_an_unknown_backend_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(*_plugin_args(), "--sandbox-backend", "kind")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'kind'*"])


def test_a_missing_kubeconfig_fails_the_session_fixture(
    sandbox_pytester: pytest.Pytester,
) -> None:
    sandbox_pytester.makepyfile("def test_needs_cluster(client):\n    pass\n")
    missing = sandbox_pytester.path / "absent-kubeconfig"
    result = sandbox_pytester.runpytest_subprocess(
        *_plugin_args(), "--sandbox-backend", "kubeconfig", "--sandbox-kubeconfig", str(missing))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*absent-kubeconfig*"])


@pytest.mark.slow
def test_keep_cluster_runs_on_a_daemon_that_outlives_the_session(
    sandbox_pytester: pytest.Pytester,
) -> None:
    from sandbox.backends.inprocess.control import DaemonHome, find_daemon, stop_daemon

    home = DaemonHome(sandbox_pytester.path / "home")
    sandbox_pytester.makepyfile(ROUND_TRIP.replace('== "inprocess"', '== "inprocess"\n'
                                                   '        assert sandbox_cluster.cluster is None'))
    env_home = os.environ.get("SANDBOX_HOME")
    os.environ["SANDBOX_HOME"] = str(home.path)
    try:
        result = sandbox_pytester.runpytest_subprocess(*_plugin_args(), "--keep-cluster")
        result.assert_outcomes(passed=3)
        result.stdout.fnmatch_lines(["*sandbox cluster kept*", "*started a sandbox daemon in*",
                                     f"*export KUBECONFIG={home.kubeconfig}*",
                                     f"*sandbox down --home {home.path}*"])
        assert find_daemon(home) is not None
    finally:
        stop_daemon(home)
        if env_home is None:
            del os.environ["SANDBOX_HOME"]
        else:
            os.environ["SANDBOX_HOME"] = env_home


@pytest.mark.parametrize(("test_name", "prefix"), [
    ("test_creates_a_pod", "test-creates-a-pod-"),
    ("test_case[param-1]", "test-case-param-1-"),
    ("TEST_" + "x" * 80, "test-" + "x" * 52 + "-"),
])
def test_namespace_names_are_dns_labels_unique_per_test(test_name: str, prefix: str) -> None:
    name = namespace_name(test_name)
    assert name.startswith(prefix)
    assert len(name) == len(prefix) + 5 <= 63
    assert namespace_name(test_name) != name


async def test_threadsafe_client_runs_calls_on_the_cluster_loop(client) -> None:
    from sandbox.testing.plugin import _LoopThread

    runner = _LoopThread()
    loops: list[asyncio.AbstractEventLoop] = []

    class Recording:
        async def get(self, *args: object, **kwargs: object) -> dict[str, object]:
            loops.append(asyncio.get_running_loop())
            return await client.get(*args, **kwargs)

    try:
        wrapped = ThreadsafeClient(Recording(), loop=runner.loop)  # type: ignore[arg-type]
        await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
        assert (await wrapped.get("v1", "Namespace", "a"))["metadata"]["name"] == "a"
        assert loops == [runner.loop]
    finally:
        runner.close()
