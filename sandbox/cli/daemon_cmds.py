"""``sandbox up``, ``sandbox status`` and ``sandbox down``: the daemon's life from a shell.

The commands are thin: :mod:`sandbox.backends.inprocess.control` finds,
starts and stops the daemon of a home; these check arguments early (a bad
cluster file, a port in use, a home that holds another cluster's state) so
mistakes get a one-line answer instead of a daemon log, and print the result
(see :mod:`sandbox.cli.output`). ``status`` reads the cluster through the
REST API with the home's kubeconfig, as kubectl would (:mod:`sandbox.cli.summary`).

Exit codes: 0 done; 1 the sandbox is not running / not healthy / could not
start or stop; 2 bad arguments.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from sandbox.backends.inprocess.control import (
    DEFAULT_API_PORT,
    DEFAULT_WEB_PORT,
    DaemonHome,
    DaemonInfo,
    StartFailed,
    cluster_ref,
    find_daemon,
    port_free,
    readyz,
    start_daemon,
    stop_daemon,
)
from sandbox.cli.options import home_option, resolve_home
from sandbox.cli.output import Printer, table
from sandbox.cli.summary import ClusterSummary, cluster_summary
from sandbox.cluster.config import ClusterFileError, load_cluster

__all__ = ["down", "status", "up"]

_PORT = click.IntRange(0, 65535)


@click.command(epilog="""\b
Examples:
  sandbox up                          # the default cluster, in ~/.kf-sandbox
  sandbox up --cluster gpu            # a shipped cluster, by name
  sandbox up --cluster ./my.yaml      # a cluster file
  sandbox up --home /tmp/sb --port 0 --web-port 0   # any free ports
  eval "$(sandbox up | grep ^export)" && kubectl get nodes
""")
@click.option("--cluster", metavar="NAME|FILE", default=None,
              help="A shipped cluster (default, gpu, large) or a cluster file. "
                   "[default: the home's cluster, else default]")
@click.option("--port", type=_PORT, default=DEFAULT_API_PORT, show_default=True,
              envvar="SANDBOX_PORT", help="The API server's HTTPS port on 127.0.0.1 (0: any free port).")
@click.option("--web-port", type=_PORT, default=DEFAULT_WEB_PORT, show_default=True,
              envvar="SANDBOX_WEB_PORT", help="The plain-HTTP web port on 127.0.0.1 (0: any free port).")
@home_option
@click.option("--foreground", is_flag=True,
              help="Run in this terminal until Ctrl-C instead of in the background.")
@click.option("--timeout", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Seconds to wait for the API server to be ready.")
def up(cluster: str | None, port: int, web_port: int, home: Path | None, foreground: bool,
       timeout: float) -> None:
    """Start the sandbox: an in-process cluster behind a Kubernetes API server.

    It runs in the background (log: <home>/daemon.log) until `sandbox down`,
    and keeps its objects in <home>/store.db: after `down` and `up` they are
    all back and their pods run again. Prints the API and web URLs and the
    kubeconfig to use with kubectl.
    """
    printer = Printer()
    files = resolve_home(home)
    running = find_daemon(files)
    if running is not None:
        printer.error(f"a sandbox is already running in {files.path} (pid {running.pid}); "
                      "stop it with `sandbox down` or choose another --home")
        raise SystemExit(1)
    ref = _choose_cluster(files, cluster)
    _check_ports(port, web_port)
    if foreground:
        _run_foreground(files, cluster=ref, port=port, web_port=web_port, printer=printer)
        return
    printer.progress(f"Starting the sandbox in {files.path} …")
    began = time.monotonic()
    try:
        info = start_daemon(files, cluster=ref, port=port, web_port=web_port, timeout=timeout)
    except StartFailed as err:
        printer.error(str(err))
        if err.log_tail:
            printer.progress(f"last lines of {files.log_file}:")
            for line in err.log_tail:
                printer.progress(f"  {line}")
        raise SystemExit(1) from None
    printer.progress(f"Ready in {time.monotonic() - began:.1f} s.")
    _print_ready(printer, files, info)


def _choose_cluster(files: DaemonHome, cluster: str | None) -> str:
    """The cluster to start: the one asked for, else the home's, else ``default``.

    A home's store belongs to the cluster it was created with: starting
    another over it would leave the old cluster's nodes behind.
    """
    recorded = files.recorded_cluster()
    ref = cluster_ref(cluster) if cluster else (recorded or "default")
    try:
        load_cluster(ref)
    except ClusterFileError as err:
        raise click.BadParameter(str(err), param_hint="'--cluster'") from None
    if recorded is not None and recorded != ref:
        raise click.UsageError(
            f"{files.path} holds the state of cluster {recorded!r}, not {ref!r}: "
            f"start it with --cluster {shlex.quote(recorded)}, use another --home, "
            f"or delete {files.store_db} to start afresh"
        )
    return ref


def _check_ports(port: int, web_port: int) -> None:
    if port and port == web_port:
        raise click.BadParameter(f"the API and web ports must differ (both {port})",
                                 param_hint="'--web-port'")
    for value, option in ((port, "--port"), (web_port, "--web-port")):
        if not port_free(value):
            raise click.BadParameter(
                f"127.0.0.1:{value} is in use; choose another port (0: any free port)",
                param_hint=f"'{option}'")


def _run_foreground(files: DaemonHome, *, cluster: str, port: int, web_port: int,
                    printer: Printer) -> None:
    import logging

    from sandbox.backends.inprocess.daemon import serve

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    printer.progress(f"Starting the sandbox in {files.path} (Ctrl-C stops it) …")
    try:
        asyncio.run(serve(files.path, cluster=cluster, port=port, web_port=web_port,
                          ready=lambda info: _print_ready(printer, files, info, detached=False)))
    except KeyboardInterrupt:
        pass
    except OSError as err:
        printer.error(str(err))
        raise SystemExit(1) from None
    printer.progress("Sandbox stopped.")


def _print_ready(printer: Printer, files: DaemonHome, info: DaemonInfo, *,
                 detached: bool = True) -> None:
    printer.result(f"Sandbox {info.cluster!r} is up in {files.path} (pid {info.pid}).")
    printer.result(f"API:         {info.api_url}")
    printer.result(f"Web:         {info.web_url}")
    printer.result(f"Kubeconfig:  {info.kubeconfig}")
    if detached:
        printer.result(f"Log:         {files.log_file}")
    printer.result()
    printer.result(f"export KUBECONFIG={shlex.quote(info.kubeconfig)}")


@click.command(epilog="""\b
Examples:
  sandbox status
  sandbox status -o json | jq -r .api_url
  sandbox status --home /tmp/sb || sandbox up --home /tmp/sb
""")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@home_option
def status(output: str, home: Path | None) -> None:
    """Show whether the sandbox runs and is healthy, its URLs, nodes and pods.

    Exits 1 when no sandbox runs in the home or it is not healthy.
    """
    printer = Printer()
    files = resolve_home(home)
    report: dict[str, Any] = {"home": str(files.path), "running": False, "ready": False}
    running = find_daemon(files)
    if running is None:
        _status_out(printer, output, report)
        printer.error(f"no sandbox is running in {files.path} (start one with `sandbox up`)")
        raise SystemExit(1)
    report.update(running=True, pid=running.pid)
    if running.info is None:
        _status_out(printer, output, report)
        printer.error(f"the sandbox in {files.path} (pid {running.pid}) is still starting")
        raise SystemExit(1)
    info = running.info
    ready, said = readyz(info)
    report.update(ready=ready, readyz=said, cluster=info.cluster, api_url=info.api_url,
                  web_url=info.web_url, kubeconfig=info.kubeconfig, started=info.started,
                  version=info.version)
    summary: ClusterSummary | None = None
    problem = "" if ready else f"the API server is not ready: {said}"
    if ready:
        try:
            summary = asyncio.run(cluster_summary(info.kubeconfig))
        except Exception as err:  # any failure to read the cluster is what status reports
            problem = f"cannot read the cluster through {info.api_url}: {err}"
    if summary is not None:
        report.update(summary.to_json())
    if problem:
        report["error"] = problem
    _status_out(printer, output, report)
    if problem:
        printer.error(problem)
        raise SystemExit(1)


def _status_out(printer: Printer, output: str, report: dict[str, Any]) -> None:
    if output == "json":
        printer.result(json.dumps(report, indent=2))
        return
    if not report["running"]:
        return
    if "api_url" not in report:
        printer.result(f"Sandbox:     starting (pid {report['pid']})")
        return
    health = printer.style("ready", fg="green") if report["ready"] else printer.style(
        "not ready", fg="red")
    printer.result(f"Sandbox:     {report['cluster']!r} running (pid {report['pid']}), "
                   f"API {health}, up {_age(report['started'])}")
    printer.result(f"API:         {report['api_url']}")
    printer.result(f"Web:         {report['web_url']}")
    printer.result(f"Kubeconfig:  {report['kubeconfig']}")
    if "nodes" not in report:
        return
    printer.result()
    rows = [(n["name"], "True" if n["ready"] else "False", n["cpu"], n["memory"], n["pods"])
            for n in report["nodes"]]
    for line in table(("NODE", "READY", "CPU", "MEMORY", "PODS"), rows):
        printer.result(line)
    printer.result()
    pods = report["pods"]
    phases = ", ".join(f"{count} {phase}" for phase, count in pods["by_phase"].items())
    printer.result(f"Pods:        {pods['total']}" + (f" ({phases})" if phases else ""))


def _age(started: str) -> str:
    """kubectl-style age: 42s, 5m10s, 3h4m, 2d3h."""
    try:
        then = datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "?"
    seconds = max(0, int((datetime.now(UTC) - then).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


@click.command(epilog="""\b
Examples:
  sandbox down
  sandbox down --home /tmp/sb
""")
@home_option
@click.option("--timeout", type=click.FloatRange(min=0), default=30, show_default=True,
              help="Seconds to wait for a graceful stop before killing it.")
def down(home: Path | None, timeout: float) -> None:
    """Stop the sandbox and every process it started (its state stays in the home)."""
    printer = Printer()
    files = resolve_home(home)
    running = find_daemon(files)
    if running is None:
        printer.progress(f"No sandbox is running in {files.path}.")
        return
    printer.progress(f"Stopping the sandbox in {files.path} (pid {running.pid}) …")
    result = stop_daemon(files, timeout=timeout)
    if result is None:
        printer.progress("It had already stopped.")
        return
    if result.forced:
        printer.warning(f"it did not stop within {timeout:g} s: killed its process group")
    if result.killed:
        printer.warning(f"killed {len(result.killed)} process(es) it left behind: "
                        + ", ".join(map(str, result.killed)))
    if result.remaining:
        printer.error("still alive after stopping: " + ", ".join(map(str, result.remaining)))
        raise SystemExit(1)
    printer.result(f"Sandbox stopped (pid {result.pid}); no process of it remains.")
