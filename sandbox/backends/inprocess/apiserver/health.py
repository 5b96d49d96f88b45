"""``/version`` and the health endpoints ``/healthz``, ``/livez``, ``/readyz``.

``/version`` reports Kubernetes 1.31: the ``kubectl`` on PATH is a dispatcher
that runs ``kubectl.1.<minor>`` for the server's minor version, and 1.32+
would send protobuf bodies for some ``create`` commands (the reference's
G2/G3), so 31 keeps every kubectl command on JSON.

Health answers ``ok``, or with ``?verbose`` one ``[+]check ok`` line per
check and ``<endpoint> check passed``; ``/readyz`` fails its ``shutdown``
check while the server stops, as kube-apiserver does during graceful
termination. A single check answers at ``/<endpoint>/<check>``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.backends.inprocess.apiserver.responses import Reply, json_reply, not_found, text_reply

__all__ = ["VERSION", "health_reply", "version_reply"]

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T00:00:00Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_CHECKS = {
    "healthz": ("ping", "log", "etcd", "poststarthook/rbac/bootstrap-roles"),
    "livez": ("ping", "log", "etcd", "poststarthook/rbac/bootstrap-roles"),
    "readyz": ("ping", "log", "etcd", "informer-sync", "poststarthook/rbac/bootstrap-roles",
               "shutdown"),
}

_VERSION_REPLY = json_reply(VERSION)


def version_reply() -> Reply:
    return _VERSION_REPLY


def health_reply(path: str, query: Mapping[str, str], *, stopping: bool) -> Reply:
    endpoint, _, single = path.strip("/").partition("/")
    checks = _CHECKS.get(endpoint)
    if checks is None:
        raise not_found()
    failed = {"shutdown"} if stopping and endpoint == "readyz" else set()
    if single:
        if single not in checks:
            raise not_found()
        if single in failed:
            return text_reply("internal server error: reason withheld\n", 500)
        return text_reply("ok")
    if "verbose" not in query:
        if failed:
            return text_reply(f"[-]shutdown failed: reason withheld\n{endpoint} check failed\n", 500)
        return text_reply("ok")
    lines = [f"[-]{c} failed: reason withheld" if c in failed else f"[+]{c} ok" for c in checks]
    verdict = "failed" if failed else "passed"
    return text_reply("\n".join(lines) + f"\n{endpoint} check {verdict}\n", 500 if failed else 200)
