"""Real kubectl 1.27, 1.31 and 1.33 against ``sandbox up``, over HTTPS.

One daemon for the module (started as ``sandbox up`` does, on free ports, in a
tmp home; stopped as ``sandbox down`` does), with the kubeconfig it wrote.
Each kubectl version works in its own namespace, concurrently. Outputs are
asserted, not just exit codes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from apiserver_e2e_helpers import (
    VERSIONS,
    Daemon,
    have_kubectl,
    kubectl,
    kubectl_path,
    running_daemon,
    write,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(not have_kubectl(), reason="kubectl 1.27/1.31/1.33 binaries not installed"),
]

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
  labels: {{app: web{extra_label}}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: main
        image: python:3.11
        command: ["python", "-u", "-c", "import time\\nwhile True:\\n  print('serving', flush=True)\\n  time.sleep(5)"]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  selector: {{app: web}}
  ports:
  - port: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
data:
  color: {color}
"""

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the widget should look like.
            properties:
              size: {type: integer, description: How big the widget is.}
              color: {type: string}
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Daemon]:
    async with running_daemon(tmp_path_factory.mktemp("kubectl-sandbox")) as running:
        yield running


def _ns(version: str) -> str:
    return "k" + version.replace(".", "")


async def _workload_scenario(sandbox: Daemon, version: str, files: Path) -> None:
    ns = _ns(version)

    async def run(*args: str, **options) -> str:
        return (await kubectl(sandbox, *args, version=version, **options)).out

    ns_file = write(files, "ns.yaml", f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
    app = write(files, "app.yaml", APP.format(ns=ns, color="blue", extra_label=""))
    assert f"namespace/{ns} created" in await run("apply", "-f", str(ns_file))
    out = await run("apply", "-f", str(app))
    assert "deployment.apps/web created" in out
    assert "service/web created" in out and "configmap/settings created" in out

    app.write_text(APP.format(ns=ns, color="red", extra_label=", tier: front"))
    out = await run("apply", "-f", str(app))
    assert "deployment.apps/web configured" in out
    assert "service/web unchanged" in out and "configmap/settings configured" in out

    out = await run("wait", "-n", ns, "--for=condition=Available", "deployment/web", "--timeout=60s")
    assert "deployment.apps/web condition met" in out

    rows = (await run("get", "deployments", "-A")).splitlines()
    assert rows[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert any(row.split()[:3] == [ns, "web", "1/1"] for row in rows[1:])
    assert "color: red" in await run("get", "configmap", "settings", "-n", ns, "-o", "yaml")
    listed = json.loads(await run("get", "deployments", "-n", ns, "-o", "json"))
    assert listed["kind"] == "List" and listed["items"][0]["metadata"]["labels"]["tier"] == "front"
    wide = (await run("get", "pods", "-n", ns, "-o", "wide")).splitlines()
    assert wide[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert "Running" in wide[1] and ("worker-" in wide[1] or "control-plane" in wide[1])
    assert (await run("get", "configmaps", "-n", ns, "-o", "name")).split() == [
        "configmap/kube-root-ca.crt", "configmap/settings"]

    assert "deployment.apps/web scaled" in await run("scale", "-n", ns, "deployment/web",
                                                     "--replicas=2")
    out = await run("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")
    assert 'deployment "web" successfully rolled out' in out
    assert "2/2" in await run("get", "deployment", "web", "-n", ns)

    assert "configmap/settings labeled" in await run("label", "-n", ns, "cm", "settings", "env=dev")
    # kubectl 1.27-1.30 print "annotate", later ones "annotated".
    assert "configmap/settings annotate" in await run("annotate", "-n", ns, "cm", "settings",
                                                      "note=hi")
    path = "{.metadata.labels.env}/{.metadata.annotations.note}"
    assert await run("get", "-n", ns, "cm", "settings", "-o", f"jsonpath={path}") == "dev/hi"

    out = await run("apply", "--server-side", "--force-conflicts", "-f", str(app))
    assert "deployment.apps/web serverside-applied" in out
    assert "configmap/settings serverside-applied" in out

    out = await run("delete", "-f", str(app))
    assert 'deployment.apps "web" deleted' in out
    assert 'service "web" deleted' in out and 'configmap "settings" deleted' in out
    assert "No resources found" in (await kubectl(sandbox, "get", "deployments", "-n", ns,
                                                  version=version)).err


async def test_each_kubectl_version_applies_inspects_changes_and_deletes(
    sandbox: Daemon, tmp_path: Path
) -> None:
    await asyncio.gather(*(
        _workload_scenario(sandbox, version, tmp_path / version) for version in VERSIONS))


async def test_get_watch_prints_a_new_pod(sandbox: Daemon) -> None:
    await kubectl(sandbox, "create", "namespace", "watching")
    process = await asyncio.create_subprocess_exec(
        str(kubectl_path("1.31")), "get", "pods", "-n", "watching", "-w",
        env={"KUBECONFIG": str(sandbox.kubeconfig_path), "HOME": str(sandbox.home)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await asyncio.sleep(0.3)
        await kubectl(sandbox, "run", "newcomer", "-n", "watching", "--image=python:3.11",
                      "--restart=Never", "--", "python", "-c", "import time; time.sleep(30)")
        seen: list[str] = []
        async with asyncio.timeout(20):
            while not any("newcomer" in line and "Running" in line for line in seen):
                seen.append((await process.stdout.readline()).decode())
    finally:
        process.kill()
        await process.wait()
    assert seen[0].split()[:2] == ["NAME", "READY"]
    assert sum(line.startswith("NAME") for line in seen) == 1  # one header: Table watch events


async def test_describe_logs_and_follow(sandbox: Daemon, tmp_path: Path) -> None:
    pod = write(tmp_path, "pod.yaml", """\
apiVersion: v1
kind: Pod
metadata: {name: talker, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: python:3.11
    command: ["python", "-u", "-c", "import time\\nprint('one')\\ntime.sleep(2)\\nprint('two')"]
""")
    assert "pod/talker created" in (await kubectl(sandbox, "apply", "-f", str(pod))).out
    async with asyncio.timeout(30):
        while "one" not in (await kubectl(sandbox, "logs", "talker", check=False)).out:
            await asyncio.sleep(0.2)
    followed = await kubectl(sandbox, "logs", "-f", "talker", timeout=30)
    assert followed.out == "one\ntwo\n"
    assert (await kubectl(sandbox, "logs", "talker", "--tail=1")).out == "two\n"
    described = (await kubectl(sandbox, "describe", "pod", "talker")).out
    assert "Name:             talker" in described or "Name:         talker" in described
    events = described.split("Events:")[1]
    assert "Scheduled" in events and "Started" in events


async def test_custom_resources_print_their_columns_and_explain(sandbox: Daemon,
                                                               tmp_path: Path) -> None:
    crd = write(tmp_path, "crd.yaml", CRD)
    widget = write(tmp_path, "widget.yaml", "apiVersion: example.com/v1\nkind: Widget\n"
                   "metadata: {name: w1, namespace: default}\nspec: {size: 3, color: green}\n")
    await kubectl(sandbox, "apply", "-f", str(crd))
    await kubectl(sandbox, "wait", "--for=condition=Established",
                  "crd/widgets.example.com", "--timeout=30s")
    for version in ("1.27", "1.33"):
        out = (await kubectl(sandbox, "apply", "-f", str(widget), version=version)).out
        assert "widget.example.com/w1" in out
        rows = (await kubectl(sandbox, "get", "widgets", version=version)).out.splitlines()
        assert rows[0].split() == ["NAME", "SIZE", "COLOR", "AGE"]
        assert rows[1].split()[:3] == ["w1", "3", "green"]
        explained = (await kubectl(sandbox, "explain", "widget.spec.size", version=version)).out
        assert "How big the widget is." in explained
    refused = await kubectl(sandbox, "patch", "widget", "w1", "-p", '{"spec":{"size":4}}',
                            check=False)
    assert "application/strategic-merge-patch+json is not supported" in refused.err


@pytest.mark.parametrize("version", VERSIONS)
async def test_explain_reads_the_servers_openapi(sandbox: Daemon, version: str) -> None:
    out = (await kubectl(sandbox, "explain", "pod.spec.containers", version=version)).out
    assert "KIND:" in out and "Pod" in out
    assert "containers" in out and "DESCRIPTION:" in out
    assert "image" in out


async def test_auth_can_i_follows_rbac_for_each_user(sandbox: Daemon) -> None:
    token = sandbox.add_user("bob", groups=("testers",))
    admin = await kubectl(sandbox, "auth", "can-i", "create", "pods")
    bob = await kubectl(sandbox, "auth", "can-i", "create", "pods", f"--token={token}",
                        check=False)
    as_bob = await kubectl(sandbox, "auth", "can-i", "create", "pods", "--as=bob", check=False)
    forbidden = await kubectl(sandbox, "get", "pods", f"--token={token}", check=False)
    bad = await kubectl(sandbox, "get", "pods", "--token=not-a-token", check=False)
    assert (admin.code, admin.out.strip()) == (0, "yes")
    assert (bob.code, bob.out.strip()) == (1, "no")
    assert (as_bob.code, as_bob.out.strip()) == (1, "no")
    assert forbidden.err.strip() == (
        'Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" '
        'in API group "" in the namespace "default"')
    assert bad.err.strip() == "error: You must be logged in to the server (Unauthorized)"


async def test_errors_read_like_kubernetes(sandbox: Daemon) -> None:
    missing = await kubectl(sandbox, "get", "pod", "nope", check=False)
    assert missing.err.strip() == 'Error from server (NotFound): pods "nope" not found'
    await kubectl(sandbox, "run", "sleeper", "--image=python:3.11", "--restart=Never", "--",
                  "python", "-c", "import time; time.sleep(60)")
    await kubectl(sandbox, "wait", "--for=condition=Ready", "pod/sleeper", "--timeout=30s")
    exec_ = await kubectl(sandbox, "exec", "sleeper", "--", "ls", check=False)
    assert exec_.code != 0
    assert "pods/exec is not supported by kf-sandbox" in exec_.err, exec_.err


async def test_kubectl_1_33_protobuf_bodies_work(sandbox: Daemon) -> None:
    """kubectl 1.32+ sends protobuf for typed creates and ``auth can-i`` (reference G3)."""
    run = {"version": "1.33"}
    assert (await kubectl(sandbox, "create", "namespace", "typed", **run)).out == (
        "namespace/typed created\n")
    out = (await kubectl(sandbox, "create", "configmap", "c1", "-n", "typed",
                         "--from-literal=a=b", **run)).out
    assert out == "configmap/c1 created\n"
    out = (await kubectl(sandbox, "create", "deployment", "d1", "-n", "typed",
                         "--image=python:3.11", "--replicas=2", **run)).out
    assert out == "deployment.apps/d1 created\n"
    assert (await kubectl(sandbox, "auth", "can-i", "create", "pods", **run)).out == "yes\n"
    async with asyncio.timeout(10):  # the serviceaccount controller makes the token Secret
        while (made := await kubectl(sandbox, "create", "token", "default", "-n", "typed",
                                     check=False, **run)).code:
            await asyncio.sleep(0.1)
    token = made.out
    forbidden = await kubectl(sandbox, "get", "pods", "-n", "typed", f"--token={token.strip()}",
                              check=False, **run)
    assert 'User "system:serviceaccount:typed:default" cannot list' in forbidden.err
