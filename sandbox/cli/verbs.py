"""``sandbox get|describe|logs|events|wait``: kubectl's reading verbs, where the sandbox adds value.

They read a cluster only through the client protocol, so they work on the
running daemon (``<home>/kubeconfig``) and on any cluster (``--kubeconfig``,
``--context``)::

    options ─▶ Connection (kubeconfig, or the injected client factory)
            ─▶ Client ─▶ Kinds.resolve("po") ─▶ list/get/logs/wait_for ─▶ stdout

Kind names resolve like kubectl's: the built-in registry
(:func:`~sandbox.api.builtin_kinds.builtin_registry`) plus the cluster's
CustomResourceDefinitions, read through the same client (so a MemoryClient
and a KubeClient resolve alike, with no discovery endpoint needed). Tables
are the server-side printers' (:func:`sandbox.api.printers.table`): the same
columns and ages ``kubectl get`` shows.

Tests (and embedders) inject a client by passing a :class:`Connection` as
click's ``obj``; its ``now`` sets the moment ages are computed against.

Errors print like kubectl's — ``Error from server (NotFound): pods "x" not
found`` — and exit 1.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from sandbox.api.builtin_kinds import builtin_registry
from sandbox.api.errors import ApiError
from sandbox.api.kinds import ResourceType, UnknownKind
from sandbox.api.printers import jsonpath, table
from sandbox.api.printers.ages import parse_timestamp
from sandbox.cli.describe import describe_object
from sandbox.cli.options import home_option, resolve_home
from sandbox.cli.output import Printer
from sandbox.cli.output import table as layout
from sandbox.client.kinds import Kinds
from sandbox.client.kube import KubeClient
from sandbox.client.protocol import Client
from sandbox.client.waiting import WaitTimeout

__all__ = ["Connection", "describe", "events", "get", "logs", "parse_duration", "wait"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Connection:
    """How the verbs reach a cluster: a client factory and the current time.

    Pass one as click's ``obj`` to inject a client; otherwise the verbs build
    a :class:`KubeClient` from ``--kubeconfig`` or ``<home>/kubeconfig``.
    """

    client: Callable[[], Client]
    now: Callable[[], datetime] = field(default=_utcnow)


# Options and plumbing ------------------------------------------------------------------------

def cluster_options(func: F) -> F:
    """``--home``, ``--kubeconfig``, ``--context``: which cluster to read."""
    func = click.option("--context", default=None,
                        help="The kubeconfig context to use. [default: its current context]")(func)
    func = click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path),
                        default=None,
                        help="A kubeconfig to use instead of the sandbox's <home>/kubeconfig.")(func)
    return home_option(func)


def namespace_option(func: F) -> F:
    return click.option("-n", "--namespace", default=None,
                        help="The namespace. [default: the context's namespace]")(func)


def _connection(home: Path | None, kubeconfig: Path | None, context: str | None) -> Connection:
    injected = click.get_current_context().find_object(Connection)
    if injected is not None:
        return injected
    path = kubeconfig or resolve_home(home).kubeconfig
    if not path.is_file():
        raise click.ClickException(f"no kubeconfig at {path}: start the sandbox with `sandbox up` "
                                   "or pass --kubeconfig")
    return Connection(client=lambda: KubeClient.from_kubeconfig(path, context=context))


def _run(conn: Connection, body: Callable[[Client], Awaitable[T]]) -> T:
    """Run ``body`` with a fresh client; API errors print like kubectl's and exit 1."""
    printer = Printer()

    async def main() -> T:
        client = conn.client()
        try:
            return await body(client)
        finally:
            await client.close()

    try:
        return asyncio.run(main())
    except UnknownKind as e:
        click.echo(f"error: {e.message}", err=True, color=printer.color)
    except ApiError as e:
        click.echo(f"Error from server ({e.reason}): {e.message}", err=True, color=printer.color)
    except WaitTimeout as e:
        click.echo(f"error: {e}", err=True, color=printer.color)
    raise SystemExit(1)


def _kind_name(rt: ResourceType) -> str:
    """``pod``, ``deployment.apps``: how ``-o name`` and ``wait`` name a kind."""
    kind = rt.kind.lower()
    return f"{kind}.{rt.group}" if rt.group else kind


def _with_kind(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": rt.api_version, "kind": rt.kind, **obj}


def _table_lines(rt: ResourceType, objects: list[dict[str, Any]], *, now: datetime, wide: bool,
                 all_namespaces: bool) -> list[str]:
    printed = table(rt, objects, now=now, wide=wide, include_object="None")
    header = [c["name"].upper() for c in printed["columnDefinitions"]]
    rows = [["" if c is None else c for c in row["cells"]] for row in printed["rows"]]
    if all_namespaces and rt.namespaced:
        header = ["NAMESPACE", *header]
        rows = [[(o.get("metadata") or {}).get("namespace", ""), *r]
                for o, r in zip(objects, rows, strict=True)]
    return layout(header, rows)


def _no_resources(namespace: str | None, *, all_namespaces: bool, namespaced: bool) -> str:
    if all_namespaces or not namespaced:
        return "No resources found"
    return f"No resources found in {namespace} namespace."


# get -----------------------------------------------------------------------------------------

@click.command(epilog="""\b
Examples:
  sandbox get pods -A                      # every pod, NAMESPACE first
  sandbox get deploy -n kubeflow -o wide
  sandbox get po -l app=web -o name
  sandbox get pod web-0 -o yaml
  sandbox get tfjobs --kubeconfig ~/.kube/config --context kind-kind
""")
@click.argument("kind")
@click.argument("name", required=False)
@namespace_option
@click.option("-A", "--all-namespaces", is_flag=True, help="List across all namespaces.")
@click.option("-l", "--selector", default=None, help="A label selector (app=web,tier!=db).")
@click.option("-o", "--output", type=click.Choice(["table", "wide", "yaml", "json", "name"]),
              default="table", show_default=True)
@cluster_options
def get(kind: str, name: str | None, namespace: str | None, all_namespaces: bool,
        selector: str | None, output: str, home: Path | None, kubeconfig: Path | None,
        context: str | None) -> None:
    """Show objects of a KIND (po, deploy, tfjobs.kubeflow.org ...), or one by NAME."""
    conn = _connection(home, kubeconfig, context)

    async def body(client: Client) -> list[str]:
        rt = await Kinds(client).resolve(kind)
        ns = namespace or getattr(client, "default_namespace", "default")
        if name is not None:
            objects = [await client.get(rt.api_version, rt.kind, name,
                                        namespace=ns if rt.namespaced else None)]
        else:
            scope = None if all_namespaces or not rt.namespaced else ns
            listed = await client.list(rt.api_version, rt.kind, namespace=scope,
                                       label_selector=selector)
            objects = listed["items"]
        objects = [_with_kind(rt, o) for o in objects]
        if output == "json" or output == "yaml":
            doc: Any = objects[0] if name is not None else {
                "apiVersion": "v1", "kind": "List", "items": objects,
                "metadata": {"resourceVersion": ""}}
            text = (json.dumps(doc, indent=4) if output == "json"
                    else yaml.safe_dump(doc, sort_keys=False).rstrip("\n"))
            return [text]
        if not objects:
            click.echo(_no_resources(ns, all_namespaces=all_namespaces,
                                     namespaced=rt.namespaced), err=True)
            return []
        if output == "name":
            return [f"{_kind_name(rt)}/{o['metadata']['name']}" for o in objects]
        return _table_lines(rt, objects, now=conn.now(), wide=output == "wide",
                            all_namespaces=all_namespaces)

    _emit(_run(conn, body))


def _emit(lines: Iterable[str]) -> None:
    printer = Printer()
    for line in lines:
        printer.result(line)


# describe ------------------------------------------------------------------------------------

@click.command(epilog="""\b
Examples:
  sandbox describe pod web-0
  sandbox describe deploy web -n kubeflow
""")
@click.argument("kind")
@click.argument("name")
@namespace_option
@cluster_options
def describe(kind: str, name: str, namespace: str | None, home: Path | None,
             kubeconfig: Path | None, context: str | None) -> None:
    """Show one object in detail, ending with its events (like kubectl describe)."""
    conn = _connection(home, kubeconfig, context)

    async def body(client: Client) -> list[str]:
        rt = await Kinds(client).resolve(kind)
        ns = namespace or getattr(client, "default_namespace", "default")
        obj = await client.get(rt.api_version, rt.kind, name,
                               namespace=ns if rt.namespaced else None)
        uid = (obj.get("metadata") or {}).get("uid")
        scope = (obj.get("metadata") or {}).get("namespace")
        related = [e for e in (await client.list("v1", "Event", namespace=scope))["items"]
                   if uid and (e.get("involvedObject") or {}).get("uid") == uid]
        return describe_object(_with_kind(rt, obj), _by_last_seen(related), now=conn.now())

    _emit(_run(conn, body))


# logs ----------------------------------------------------------------------------------------

@click.command(epilog="""\b
Examples:
  sandbox logs web-0
  sandbox logs trainer-0 -c worker --previous     # why did it crash?
  sandbox logs web-0 -f --tail 20
""")
@click.argument("pod")
@namespace_option
@click.option("-c", "--container", default=None, help="The container. [default: the only one]")
@click.option("-p", "--previous", is_flag=True, help="The previous (crashed) instance's log.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing lines as they are written.")
@click.option("--tail", type=int, default=-1, help="Only the last N lines (-1: all).")
@cluster_options
def logs(pod: str, namespace: str | None, container: str | None, previous: bool, follow: bool,
         tail: int, home: Path | None, kubeconfig: Path | None, context: str | None) -> None:
    """Print a pod container's log."""
    conn = _connection(home, kubeconfig, context)
    tail_lines = None if tail < 0 else tail

    async def body(client: Client) -> None:
        ns = namespace or getattr(client, "default_namespace", "default")
        if follow and not previous:
            async for line in client.follow_logs(pod, namespace=ns, container=container,
                                                 tail_lines=tail_lines):
                click.echo(line.rstrip("\n"))
            return
        text = await client.logs(pod, namespace=ns, container=container, previous=previous,
                                 tail_lines=tail_lines)
        click.echo(text, nl=False)

    _run(conn, body)


# events --------------------------------------------------------------------------------------

def _last_seen(event: Mapping[str, Any]) -> datetime:
    series = event.get("series") or {}
    for stamp in (series.get("lastObservedTime"), event.get("lastTimestamp"),
                  event.get("eventTime"), event.get("firstTimestamp"),
                  (event.get("metadata") or {}).get("creationTimestamp")):
        moment = parse_timestamp(stamp) if stamp else None
        if moment is not None:
            return moment
    return datetime.min.replace(tzinfo=UTC)


def _write_order(event: Mapping[str, Any]) -> int:
    """Ties within a second break by the order the events were last written."""
    version = (event.get("metadata") or {}).get("resourceVersion") or ""
    return int(version) if version.isdigit() else 0


def _by_last_seen(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda e: (_last_seen(e), _write_order(e)))


@click.command(epilog="""\b
Examples:
  sandbox events -A
  sandbox events --for pod/web-0
""")
@namespace_option
@click.option("-A", "--all-namespaces", is_flag=True, help="Events of all namespaces.")
@click.option("--for", "for_", metavar="KIND/NAME", default=None,
              help="Only the events of this object.")
@cluster_options
def events(namespace: str | None, all_namespaces: bool, for_: str | None, home: Path | None,
           kubeconfig: Path | None, context: str | None) -> None:
    """List events, oldest first (like kubectl events)."""
    conn = _connection(home, kubeconfig, context)

    async def body(client: Client) -> list[str]:
        ns = namespace or getattr(client, "default_namespace", "default")
        items = (await client.list("v1", "Event",
                                   namespace=None if all_namespaces else ns))["items"]
        if for_ is not None:
            kind, name = _kind_slash_name(for_)
            rt = await Kinds(client).resolve(kind)
            items = [e for e in items if (e.get("involvedObject") or {}).get("kind") == rt.kind
                     and (e.get("involvedObject") or {}).get("name") == name]
        if not items:
            where = "" if all_namespaces else f" in {ns} namespace"
            click.echo(f"No events found{where}.", err=True)
            return []
        rt = builtin_registry().get("v1", "Event")
        return _table_lines(rt, _by_last_seen(items), now=conn.now(), wide=False,
                            all_namespaces=all_namespaces)

    _emit(_run(conn, body))


def _kind_slash_name(text: str) -> tuple[str, str]:
    kind, sep, name = text.partition("/")
    if not sep or not kind or not name:
        raise click.BadParameter(f"expected KIND/NAME, got {text!r}")
    return kind, name


# wait ----------------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration (``30s``, ``1m30s``, ``500ms``) or a bare number of seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise click.BadParameter(f"invalid duration {text!r} (e.g. 30s, 2m, 1m30s)")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


@dataclass(frozen=True)
class _Wanted:
    condition: tuple[str, str] | None = None
    deleted: bool = False
    path: str | None = None
    value: str | None = None

    def predicate(self) -> Callable[[dict[str, Any]], bool] | None:
        if self.path is None:
            return None
        path, value = self.path, self.value

        def holds(obj: dict[str, Any]) -> bool:
            found = jsonpath(path, obj)
            if value is None:
                return bool(found)
            return any(_scalar(v) == value for v in found)
        return holds


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def parse_for(text: str) -> _Wanted:
    """``condition=Ready[=False]``, ``delete``, ``jsonpath='{.status.phase}'=Running``."""
    if text == "delete":
        return _Wanted(deleted=True)
    if text.startswith("condition="):
        type_, _, status = text.removeprefix("condition=").partition("=")
        if type_:
            return _Wanted(condition=(type_, status or "True"))
    if text.startswith("jsonpath="):
        expr = text.removeprefix("jsonpath=")
        match = re.fullmatch(r"'?\{(.+)\}'?(?:=(.*))?", expr)
        if match:
            return _Wanted(path=match.group(1), value=match.group(2))
    raise click.BadParameter(
        f"unrecognized condition: {text!r} (condition=NAME[=STATUS], delete, "
        "jsonpath='{PATH}'=VALUE)", param_hint="--for")


@click.command(epilog="""\b
Examples:
  sandbox wait pod/web-0 --for=condition=Ready --timeout 60s
  sandbox wait pod/web-0 --for=jsonpath='{.status.phase}'=Running
  sandbox wait deploy/web --for=delete
""")
@click.argument("target", metavar="KIND/NAME")
@click.option("--for", "for_", required=True, metavar="CONDITION",
              help="condition=NAME[=STATUS], delete or jsonpath='{PATH}'=VALUE.")
@click.option("--timeout", default="60s", show_default=True, help="How long to wait (30s, 2m).")
@namespace_option
@cluster_options
def wait(target: str, for_: str, timeout: str, namespace: str | None, home: Path | None,
         kubeconfig: Path | None, context: str | None) -> None:
    """Wait for an object's condition, JSONPath value or deletion.

    On timeout prints the object's conditions and recent events, and exits 1.
    """
    kind, name = _kind_slash_name(target)
    wanted = parse_for(for_)
    seconds = parse_duration(timeout)
    conn = _connection(home, kubeconfig, context)

    async def body(client: Client) -> str:
        rt = await Kinds(client).resolve(kind)
        ns = namespace or getattr(client, "default_namespace", "default")
        await client.wait_for(rt.api_version, rt.kind, name,
                              namespace=ns if rt.namespaced else None,
                              condition=wanted.condition, predicate=wanted.predicate(),
                              deleted=wanted.deleted, timeout=seconds)
        return f"{_kind_name(rt)}/{name} {'deleted' if wanted.deleted else 'condition met'}"

    _emit([_run(conn, body)])
