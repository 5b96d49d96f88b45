"""``sandbox pipelines run|list|get|logs|terminate``: Kubeflow pipelines from the command line.

The command line of :mod:`sandbox.sdk.pipelines` (which does the work), with
the reading verbs' plumbing (:mod:`.verbs`): the same ``--home``,
``--kubeconfig``, ``--context`` and ``-n``, so they work on the home's
daemon and on any cluster running the pipelines component, and the same
injected :class:`~.verbs.Connection` in tests::

    run FILE -p k=v … ─▶ load_pipeline (.py: sandbox.pipelines.dsl or kfp.dsl; .yaml: IR)
                      ─▶ arguments_from_text (declared types decide) ─▶ submit ─▶ run name
       --wait         ─▶ Run.wait(on_update=progress) ─▶ final task tree; exit 0 iff Succeeded
    list              ─▶ list_runs ─▶ NAME STATUS TASKS STARTED DURATION
    get RUN           ─▶ get_run ─▶ summary + task tree (state, duration, cached, messages)
    logs RUN TASK     ─▶ Run.logs (task names as the tree shows them: train, train(1))

Output follows DESIGN.md §7 and the scenario reporter's conventions: results
(the run name, tables, trees, logs) on stdout; progress on stderr — a rich
live tree on a terminal, plain lines (one per task state change,
timestamped when ``CI`` is set) under CI or when stderr is not a terminal;
``NO_COLOR`` honoured. Problems with the pipeline or its arguments print
every problem and exit 1 before anything is created.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console
from rich.live import Live
from rich.text import Text
from rich.tree import Tree

from sandbox.api.printers.ages import human_duration
from sandbox.cli.output import Printer
from sandbox.cli.output import table as layout
from sandbox.cli.verbs import (
    _connection,
    _run,
    cluster_options,
    namespace_option,
    parse_duration,
)
from sandbox.client.protocol import Client
from sandbox.sdk.pipelines import (
    AmbiguousTask,
    NoTaskLog,
    PipelineLoadError,
    PipelineSpecInvalid,
    RunStatus,
    RunTimeout,
    TaskNode,
    TaskNotFound,
    aio,
    arguments_from_text,
    load_pipeline,
    run_status,
    split_assignments,
    task_tree,
)
from sandbox.sdk.pipelines.tasks import duration_text as _duration
from sandbox.sdk.pipelines.tasks import node_label as _node_name
from sandbox.sdk.pipelines.tasks import node_note as _note
from sandbox.sdk.pipelines.tasks import node_phase as _phase
from sandbox.sdk.pipelines.tasks import status_word, tree_lines

__all__ = ["PlainProgress", "RichProgress", "choose_progress", "pipelines", "rich_tree", "status_word",
           "tree_lines"]


class _Failed(click.ClickException):
    """A failure the user can act on: ``error: …`` on stderr, exit 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        Printer().error(self.message)


@contextmanager
def _sdk_errors() -> Iterator[None]:
    """The SDK's errors about the user's input, said as such (not as a server's answer)."""
    try:
        yield
    except (PipelineLoadError, PipelineSpecInvalid, TaskNotFound, AmbiguousTask, NoTaskLog) as error:
        raise _Failed(getattr(error, "message", None) or str(error)) from None


# Rendering ------------------------------------------------------------------------------------

def _summary_lines(status: RunStatus, *, now: datetime) -> list[str]:
    fields = [("Name", status.name), ("Namespace", status.namespace), ("Run name", status.run_name),
              ("Run ID", status.run_id), ("Pipeline", status.pipeline), ("Status", status_word(status))]
    if status.started is not None:
        fields.append(("Started", f"{status.started:%Y-%m-%dT%H:%M:%SZ} "
                                  f"({human_duration(now - status.started)} ago)"))
    if status.duration is not None:
        fields.append(("Duration", _duration(status.duration)))
    fields.append(("Task pods", f"{status.progress} done"))
    if status.arguments:
        fields.append(("Arguments", ", ".join(f"{k}={_text(v)}" for k, v in status.arguments.items())))
    if status.message:
        fields.append(("Message", status.message))
    fields = [(key, value) for key, value in fields if value]
    width = max(len(key) for key, _ in fields) + 2
    return [f"{key + ':':<{width}}{value}" for key, value in fields]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# Live progress --------------------------------------------------------------------------------

_ENDED = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})


class PlainProgress:
    """One stderr line per task state change (timestamped under ``CI``)."""

    def __init__(self, printer: Printer, *, now: Callable[[], datetime]) -> None:
        self.printer = printer
        self.now = now
        self._seen: dict[str, tuple[str, str]] = {}
        self._run_phase = "Pending"  # a run is Pending until the controller has seen it: no news

    def update(self, workflow: dict[str, Any]) -> None:
        status = run_status(workflow, now=self.now())
        if status.phase != self._run_phase and not status.done:
            self._run_phase = status.phase
            self.printer.progress(f"run {status.name} {status.phase}")
        for node in task_tree(workflow, now=self.now()).walk():
            if not (node.is_task or node.attempt is not None):
                continue
            if node.type == "Retry" and node.phase not in _ENDED:
                continue  # its attempts tell it
            key = (node.phase, node.message if node.phase == "Pending" else "")
            if self._seen.get(node.id) == key or (node.id not in self._seen and key == ("Pending", "")):
                continue
            self._seen[node.id] = key
            self.printer.progress(self._line(node))

    @staticmethod
    def _line(node: TaskNode) -> str:
        name = node.label if node.attempt is None else f"{node.label} attempt {node.attempt}"
        parts = [f"  {name:<24} {_phase(node)}"]
        if node.phase in _ENDED and node.duration is not None and node.type != "Skipped":
            parts.append(_duration(node.duration))
        note = _note(node)
        if note:
            parts.append(f"({note})" if node.cached else note)
        return " ".join(parts)

    def close(self) -> None:
        pass


_GLYPH = {"Succeeded": ("✓", "green"), "Failed": ("✗", "red"), "Error": ("!", "red"),
          "Running": ("●", "yellow"), "Pending": ("○", "dim"), "Skipped": ("-", "dim"),
          "Omitted": ("-", "dim")}


def _rich_label(node: TaskNode) -> Text:
    glyph, style = _GLYPH.get(node.phase, ("?", ""))
    text = Text.assemble((glyph + " ", style), (_node_name(node), "bold" if node.is_task else ""))
    text.append(f"  {_phase(node)}", style=style)
    if node.duration is not None:
        text.append(f"  {_duration(node.duration)}", style="dim")
    note = _note(node)
    if note:
        text.append(f"  {note}", style="cyan" if node.cached else "dim")
    return text


def rich_tree(root: TaskNode) -> Tree:
    """The task tree as a rich :class:`~rich.tree.Tree` (glyph and colour per phase)."""
    tree = Tree(_rich_label(root))

    def add(parent: Tree, node: TaskNode) -> None:
        for child in node.children:
            add(parent.add(_rich_label(child)), child)

    add(tree, root)
    return tree


class RichProgress:
    """A live tree of the run's tasks on stderr (a terminal), cleared when the run ends."""

    def __init__(self, console: Console, *, now: Callable[[], datetime]) -> None:
        self.console = console
        self.now = now
        self.live = Live(Text(""), console=console, transient=True, auto_refresh=True,
                         refresh_per_second=4)
        self.live.start()

    def update(self, workflow: dict[str, Any]) -> None:
        status = run_status(workflow, now=self.now())
        header = Text.assemble(("run ", "dim"), (status.name, "bold"), f"  {status.phase}  ",
                               (f"{status.progress} task pods done", "dim"))
        tree = rich_tree(task_tree(workflow, now=self.now()))
        tree.label = header
        self.live.update(tree)

    def close(self) -> None:
        self.live.stop()


def choose_progress(mode: str, *, printer: Printer, now: Callable[[], datetime],
                    stream: IO[str] | None = None) -> PlainProgress | RichProgress:
    """``auto`` (plain when ``CI`` is set or stderr is not a terminal), ``rich`` or ``plain``."""
    out = stream or sys.stderr
    if mode == "auto":
        mode = "plain" if os.environ.get("CI") or not out.isatty() else "rich"
    if mode == "plain":
        return PlainProgress(printer, now=now)
    console = Console(file=out, no_color="NO_COLOR" in os.environ or None, highlight=False)
    return RichProgress(console, now=now)


# The commands ---------------------------------------------------------------------------------

@click.group(epilog="""\b
Examples:
  sandbox pipelines run train.py -p epochs=3 --wait    # run it, follow it, print the task tree
  sandbox pipelines run train.yaml                     # compiled IR (ours or kfp's) runs too
  sandbox pipelines list
  sandbox pipelines get train-pipeline-x7k2p
  sandbox pipelines logs train-pipeline-x7k2p 'train(1)'
""")
def pipelines() -> None:
    """Run Kubeflow pipelines (sandbox.pipelines.dsl, kfp.dsl or compiled IR) and follow them."""


@pipelines.command(epilog="""\b
Examples:
  sandbox pipelines run train.py --wait
  sandbox pipelines run train.py -p lr=0.1 -p layers='[64, 32]' --name try-1 --wait --timeout 10m
  sandbox pipelines run pipelines.py --function nightly --no-cache --parallelism 2
""")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A pipeline argument (repeatable). Read as JSON when it parses (3, 0.5, true, "
                   "[1,2]) unless the parameter is a string; the pipeline's types decide.")
@click.option("--function", default=None, metavar="NAME",
              help="Which pipeline of FILE, when it defines several.")
@click.option("--name", "run_name", default=None, metavar="RUN",
              help="The run's name (get and logs also accept it). [default: the pipeline's]")
@namespace_option
@click.option("--no-cache", is_flag=True, help="Run every task: reuse no cached outputs.")
@click.option("--parallelism", type=click.IntRange(min=1), default=None,
              help="At most N task pods at once. [default: no limit]")
@click.option("--wait", "wait_", is_flag=True,
              help="Follow the run until it ends; print its task tree; exit 0 only if it Succeeded.")
@click.option("--timeout", default=None, help="With --wait: give up waiting after this long (30s, 10m).")
@click.option("--output", "mode", type=click.Choice(["auto", "rich", "plain"]), default="auto",
              show_default=True, help="Progress: auto is plain when $CI is set or stderr is not a terminal.")
@cluster_options
def run(file: Path, params: tuple[str, ...], function: str | None, run_name: str | None,
        namespace: str | None, no_cache: bool, parallelism: int | None, wait_: bool, timeout: str | None,
        mode: str, home: Path | None, kubeconfig: Path | None, context: str | None) -> None:
    """Run the pipeline in FILE (.py, or compiled .yaml/.json)."""
    seconds = parse_duration(timeout) if timeout is not None else None
    try:
        texts = split_assignments(params)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'-p'") from None
    with _sdk_errors():
        pipeline = load_pipeline(file, function=function)
        arguments = arguments_from_text(pipeline.spec, texts)
    conn = _connection(home, kubeconfig, context)
    printer = Printer()

    async def body(client: Client) -> RunStatus | None:
        with _sdk_errors():
            submitted = await aio.submit(client, pipeline, arguments=arguments, run_name=run_name,
                                         namespace=namespace, enable_caching=not no_cache,
                                         parallelism=parallelism)
        if not wait_:
            printer.result(submitted.name)
            printer.progress(f"run {submitted.name} of pipeline {pipeline.name} submitted; follow it with\n"
                             f"  sandbox pipelines get {submitted.name}\n"
                             f"  sandbox pipelines logs {submitted.name} TASK")
            return None
        printer.progress(f"run {submitted.name} of pipeline {pipeline.name} submitted")
        progress = choose_progress(mode, printer=printer, now=conn.now)
        try:
            status = await submitted.wait(seconds, on_update=progress.update)
        except RunTimeout as error:
            raise _Failed(f"{error}; follow it with: sandbox pipelines get {submitted.name}") from None
        finally:
            progress.close()
        for line in tree_lines(submitted.snapshot_tasks()):
            printer.result(line)
        verdict = f"run {status.name} {status_word(status)}"
        if status.duration is not None:
            verdict += f" in {_duration(status.duration)}"
        if status.message and not status.succeeded:
            verdict += f": {status.message}"
        if status.succeeded:
            printer.progress(verdict)
        else:
            printer.error(verdict)
        return status

    status = _run(conn, body)
    if status is not None and not status.succeeded:
        raise SystemExit(1)


@pipelines.command("list", epilog="""\b
Examples:
  sandbox pipelines list
  sandbox pipelines list -n team-a
  sandbox pipelines list -A
""")
@namespace_option
@click.option("-A", "--all-namespaces", is_flag=True, help="Runs of every namespace.")
@cluster_options
def list_(namespace: str | None, all_namespaces: bool, home: Path | None, kubeconfig: Path | None,
          context: str | None) -> None:
    """List pipeline runs, newest first."""
    conn = _connection(home, kubeconfig, context)

    async def body(client: Client) -> list[str]:
        runs = await aio.list_runs(client, namespace=namespace, all_namespaces=all_namespaces)
        if not runs:
            where = "" if all_namespaces else \
                f" in {namespace or getattr(client, 'default_namespace', 'default')} namespace"
            click.echo(f"No pipeline runs found{where}.", err=True)
            return []
        now = conn.now()
        rows = []
        for one in runs:
            status = run_status(one.workflow, now=now)
            started = f"{human_duration(now - status.started)} ago" if status.started else "-"
            row = [status.name, status_word(status), status.progress, started,
                   _duration(status.duration) or "-"]
            rows.append([status.namespace, *row] if all_namespaces else row)
        header = ["NAME", "STATUS", "TASKS", "STARTED", "DURATION"]
        return layout(["NAMESPACE", *header] if all_namespaces else header, rows)

    for line in _run(conn, body):
        click.echo(line)


@pipelines.command(epilog="""\b
Examples:
  sandbox pipelines get train-pipeline-x7k2p
  sandbox pipelines get try-1               # a run name (--name) works too: the newest such run
""")
@click.argument("run_name", metavar="RUN")
@namespace_option
@cluster_options
def get(run_name: str, namespace: str | None, home: Path | None, kubeconfig: Path | None,
        context: str | None) -> None:
    """Show a run: its state and the tree of its tasks (state, duration, cached, failures)."""
    conn = _connection(home, kubeconfig, context)

    async def body(client: Client) -> list[str]:
        found = await aio.get_run(client, run_name, namespace=namespace)
        now = conn.now()
        status = run_status(found.workflow, now=now)
        return [*_summary_lines(status, now=now), "", *tree_lines(task_tree(found.workflow, now=now))]

    for line in _run(conn, body):
        click.echo(line)


@pipelines.command(epilog="""\b
Examples:
  sandbox pipelines logs train-pipeline-x7k2p make-data
  sandbox pipelines logs train-pipeline-x7k2p 'train(1)'          # the second loop iteration
  sandbox pipelines logs train-pipeline-x7k2p flaky --attempt 0   # the first try of a retried task
""")
@click.argument("run_name", metavar="RUN")
@click.argument("task")
@click.option("--attempt", type=click.IntRange(min=0), default=None,
              help="Which try of a retried task (0 is the first). [default: the latest]")
@click.option("--tail", type=int, default=-1, help="Only the last N lines (-1: all).")
@namespace_option
@cluster_options
def logs(run_name: str, task: str, attempt: int | None, tail: int, namespace: str | None,
         home: Path | None, kubeconfig: Path | None, context: str | None) -> None:
    """Print the log of a run's TASK (a name as `get` shows it: train, train(1))."""
    conn = _connection(home, kubeconfig, context)

    async def body(client: Client) -> str:
        found = await aio.get_run(client, run_name, namespace=namespace)
        with _sdk_errors():
            return await found.logs(task, attempt=attempt, tail_lines=None if tail < 0 else tail)

    click.echo(_run(conn, body), nl=False)


@pipelines.command(epilog="""\b
Examples:
  sandbox pipelines terminate train-pipeline-x7k2p
""")
@click.argument("run_name", metavar="RUN")
@namespace_option
@cluster_options
def terminate(run_name: str, namespace: str | None, home: Path | None, kubeconfig: Path | None,
              context: str | None) -> None:
    """Stop a run: its running tasks are stopped and it ends Canceled."""
    conn = _connection(home, kubeconfig, context)

    async def body(client: Client) -> str:
        status = await aio.terminate(client, run_name, namespace=namespace)
        if status.done:
            return f"run {status.name} already ended: {status_word(status)}"
        return f"run {status.name} terminating"

    click.echo(_run(conn, body))

