"""``sandbox get|describe|logs|events|wait`` against a MemoryClient injected as click's obj.

The store's FakeClock is the ``now`` of the verbs, so ages are exact. Each
CliRunner call runs its own event loop, as the real command does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sandbox.cli.main import cli
from sandbox.cli.verbs import Connection, _by_last_seen, parse_duration
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.store import Store


class Logs:
    """A LogSource with fixed text per (pod, container, previous)."""

    def __init__(self, texts: dict[tuple[str, str, bool], str]) -> None:
        self.texts = texts

    async def read(self, namespace: str, pod: dict[str, Any], *, container: str | None,
                   previous: bool, tail_lines: int | None, since_seconds: int | None,
                   timestamps: bool) -> str:
        name = container or pod["spec"]["containers"][0]["name"]
        lines = self.texts[(pod["metadata"]["name"], name, previous)].splitlines(keepends=True)
        return "".join(lines[-tail_lines:] if tail_lines is not None else lines)

    def last_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def follow(self, namespace: str, pod: dict[str, Any], *, container: str | None,
                     tail_lines: int | None, since_seconds: int | None,
                     timestamps: bool) -> AsyncIterator[str]:
        for line in self.texts[(pod["metadata"]["name"], "main", False)].splitlines():
            yield line + "\n"


def _pod(name: str, *, namespace: str = "default", labels: dict[str, str] | None = None,
         phase: str = "Running") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            "status": {"phase": phase}}


@pytest.fixture
def sandbox(clock: FakeClock) -> tuple[Store, MemoryClient]:
    store = Store(clock=clock)
    logs = Logs({("web-0", "main", False): "one\ntwo\nthree\n",
                 ("web-0", "main", True): "panic: boom\n"})
    client = MemoryClient(store, logs=logs)

    async def fill() -> None:
        await client.create({"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": "team"}})
        await client.create(_pod("web-0", labels={"app": "web"}))
        await client.create(_pod("db-0", labels={"app": "db"}, phase="Pending"))
        await client.create(_pod("job-0", namespace="team"))
        pod = await client.get("v1", "Pod", "web-0", namespace="default")
        await clock.advance(60)
        for reason, message, ago in (("Started", "Started container main", 10),
                                     ("Scheduled", "Successfully assigned default/web-0", 50)):
            stamp = (clock.now() - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
            await client.create({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"web-0.{reason.lower()}", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default",
                                   "uid": pod["metadata"]["uid"]},
                "reason": reason, "message": message, "type": "Normal",
                "source": {"component": "kubelet"},
                "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1})

    asyncio.run(fill())
    return store, client


def run(sandbox: tuple[Store, MemoryClient], *args: str) -> Result:
    store, client = sandbox
    conn = Connection(client=lambda: client, now=store.clock.now)
    return CliRunner().invoke(cli, list(args), obj=conn, catch_exceptions=False)


def test_get_prints_kubectl_columns_with_ages(sandbox: tuple[Store, MemoryClient]) -> None:
    result = run(sandbox, "get", "po")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [line.split()[0] for line in lines[1:]] == ["db-0", "web-0"]
    assert lines[2].split()[-1] == "60s"


def test_get_all_namespaces_puts_namespace_first(sandbox: tuple[Store, MemoryClient]) -> None:
    lines = run(sandbox, "get", "pods", "-A").stdout.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert ["team", "job-0"] in [line.split()[:2] for line in lines]


def test_get_filters_by_label_and_prints_names(sandbox: tuple[Store, MemoryClient]) -> None:
    assert run(sandbox, "get", "pod", "-l", "app=web", "-o", "name").stdout == "pod/web-0\n"


def test_get_wide_adds_priority_columns(sandbox: tuple[Store, MemoryClient]) -> None:
    header = run(sandbox, "get", "pods", "-o", "wide").stdout.splitlines()[0]
    assert "NODE" in header and "IP" in header


def test_get_one_object_as_yaml_and_a_list_as_json(sandbox: tuple[Store, MemoryClient]) -> None:
    one = yaml.safe_load(run(sandbox, "get", "pod", "web-0", "-o", "yaml").stdout)
    assert (one["kind"], one["metadata"]["name"]) == ("Pod", "web-0")
    many = json.loads(run(sandbox, "get", "pods", "-n", "team", "-o", "json").stdout)
    assert many["kind"] == "List"
    assert [(i["kind"], i["metadata"]["name"]) for i in many["items"]] == [("Pod", "job-0")]


def test_get_cluster_scoped_kind_ignores_namespace(sandbox: tuple[Store, MemoryClient]) -> None:
    names = run(sandbox, "get", "ns", "-o", "name").stdout.split()
    assert "namespace/team" in names


def test_get_nothing_says_so_on_stderr(sandbox: tuple[Store, MemoryClient]) -> None:
    result = run(sandbox, "get", "deploy")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No resources found in default namespace." in result.stderr


def test_missing_object_errors_like_kubectl(sandbox: tuple[Store, MemoryClient]) -> None:
    result = run(sandbox, "get", "pod", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


def test_unknown_kind_errors_like_kubectl(sandbox: tuple[Store, MemoryClient]) -> None:
    result = run(sandbox, "get", "widgets")
    assert result.exit_code == 1
    assert 'the server doesn\'t have a resource type "widgets"' in result.stderr


def test_custom_resources_resolve_through_their_crd(sandbox: tuple[Store, MemoryClient]) -> None:
    _, client = sandbox
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                              "shortNames": ["wd"]},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {
                                      "type": "object",
                                      "x-kubernetes-preserve-unknown-fields": True}},
                                  "additionalPrinterColumns": [
                                      {"name": "Size", "type": "string",
                                       "jsonPath": ".spec.size"}]}]}}

    async def fill() -> None:
        await client.create(crd)
        await client.create({"apiVersion": "example.com/v1", "kind": "Widget",
                             "metadata": {"name": "w1", "namespace": "default"},
                             "spec": {"size": "large"}})

    asyncio.run(fill())
    lines = run(sandbox, "get", "wd").stdout.splitlines()
    assert lines[0].split() == ["NAME", "SIZE"]
    assert lines[1].split() == ["w1", "large"]
    assert run(sandbox, "get", "widget", "-o", "name").stdout == "widget.example.com/w1\n"


def test_describe_pod_shows_containers_and_its_events(sandbox: tuple[Store, MemoryClient]) -> None:
    result = run(sandbox, "describe", "pod", "web-0")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Name:           web-0" in out
    assert "Labels:         app=web" in out
    assert "Image:          nginx:1.27" in out
    assert "Restart Count:  0" in out
    events = out.split("Events:\n")[1].splitlines()
    assert events[0].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert [line.split()[1] for line in events[2:]] == ["Scheduled", "Started"]
    assert events[2].split()[2:4] == ["50s", "kubelet"]


def test_describe_without_events_says_none(sandbox: tuple[Store, MemoryClient]) -> None:
    assert run(sandbox, "describe", "pod", "db-0").stdout.rstrip().endswith("Events:  <none>")


def test_logs_print_tail_and_previous(sandbox: tuple[Store, MemoryClient]) -> None:
    assert run(sandbox, "logs", "web-0").stdout == "one\ntwo\nthree\n"
    assert run(sandbox, "logs", "web-0", "--tail", "1").stdout == "three\n"
    assert run(sandbox, "logs", "web-0", "--previous").stdout == "panic: boom\n"


def test_logs_follow_prints_lines_until_the_stream_ends(
        sandbox: tuple[Store, MemoryClient]) -> None:
    assert run(sandbox, "logs", "web-0", "-f").stdout == "one\ntwo\nthree\n"


def test_events_sorted_by_last_seen_with_kubectl_columns(
        sandbox: tuple[Store, MemoryClient]) -> None:
    lines = run(sandbox, "events").stdout.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert [line.split()[2] for line in lines[1:]] == ["Scheduled", "Started"]
    assert lines[1].split()[3] == "pod/web-0"


def test_events_for_another_object_finds_none(sandbox: tuple[Store, MemoryClient]) -> None:
    result = run(sandbox, "events", "--for", "pod/db-0")
    assert result.stdout == ""
    assert "No events found in default namespace." in result.stderr
    assert len(run(sandbox, "events", "--for", "po/web-0").stdout.splitlines()) == 3


def test_wait_for_condition_and_jsonpath(sandbox: tuple[Store, MemoryClient]) -> None:
    result = run(sandbox, "wait", "pod/web-0", "--for=jsonpath={.status.phase}=Running")
    assert (result.exit_code, result.stdout) == (0, "pod/web-0 condition met\n")
    _, client = sandbox
    asyncio.run(client.delete("v1", "Pod", "db-0", namespace="default"))
    result = run(sandbox, "wait", "pod/db-0", "--for=delete")
    assert (result.exit_code, result.stdout) == (0, "pod/db-0 deleted\n")


def test_wait_timeout_shows_why_and_exits_1() -> None:
    store = Store()  # real time: a short wait must actually run out
    client = MemoryClient(store)
    asyncio.run(client.create(_pod("db-0", phase="Pending")))
    conn = Connection(client=lambda: client)
    result = CliRunner().invoke(cli, ["wait", "pod/db-0", "--for=condition=Ready",
                                      "--timeout", "200ms"], obj=conn)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "Pending" in result.stderr


def test_wait_rejects_an_unknown_for(sandbox: tuple[Store, MemoryClient]) -> None:
    result = run(sandbox, "wait", "pod/web-0", "--for=ready")
    assert result.exit_code == 2
    assert "unrecognized condition" in result.stderr


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("1m30s", 90), ("500ms", 0.5),
                                               ("2", 2)])
def test_durations_parse_like_go(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_without_a_kubeconfig_the_verbs_say_how_to_start(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["get", "pods", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "sandbox up" in result.stderr


def test_events_in_the_same_second_keep_their_write_order() -> None:
    same = "2026-01-01T00:00:00Z"
    events = [{"lastTimestamp": same, "metadata": {"resourceVersion": rv}, "reason": r}
              for rv, r in (("12", "Started"), ("9", "Scheduled"), ("10", "Pulled"))]
    assert [e["reason"] for e in _by_last_seen(events)] == ["Scheduled", "Pulled", "Started"]
