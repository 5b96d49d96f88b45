"""run and kubectl steps start real programs with the run's kubeconfig; logs expectations read real pods."""

from __future__ import annotations

import shutil

import pytest
from scenario_helpers import outcomes, run_text  # type: ignore[import-not-found]

PROBE = """\
import os, sys
from kubernetes import client, config
config.load_kube_config()
namespace = os.environ["SANDBOX_NAMESPACE"]
pods = client.CoreV1Api().list_namespaced_pod(namespace).items
print(f"{len(pods)} pods in {namespace}; args={sys.argv[1:]}")
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""

SCENARIO = """
name: processes
title: Programs and logs
level: beginner
steps:
  - name: sdk
    run: {script: probe.py, expectOutput: "^0 pods in processes"}
  - name: exit-code
    run: {script: probe.py, args: ["3"], expectExitCode: 3, expectOutput: "args=\\\\['3'\\\\]"}
  - name: module
    run: {module: json.tool, args: [data.json], expectOutput: '"a": 1'}
  - name: namespace-from-context
    kubectl: {args: [get, namespace, "{{ namespace }}", -o, name], expectOutput: "^namespace/processes$"}
  - name: expected-error
    kubectl: {args: [get, pod, nope], expectExitCode: 1, expectOutput: 'pods "nope" not found'}
  - name: job
    apply:
      manifest:
        apiVersion: batch/v1
        kind: Job
        metadata: {name: pi}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: pi
                image: python:3.11
                command: [python, -c, "print('pi=%.2f' % 3.14159)"]
  - name: job-done
    wait: {kind: job, name: pi, condition: Complete, timeout: 30s}
  - name: job-logs
    expect:
      logs: {selector: job-name=pi, matches: "^pi=3\\\\.14$"}
  - name: wrong-output
    run: {script: probe.py, expectOutput: "^no such line$"}
"""


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
async def test_programs_get_the_kubeconfig_and_their_output_is_checked(tmp_path):
    result, log = await run_text(SCENARIO, tmp_path / "processes",
                                 {"probe.py": PROBE, "data.json": '{"a": 1}'})
    assert outcomes(result) == {
        "sdk": "passed", "exit-code": "passed", "module": "passed", "namespace-from-context": "passed",
        "expected-error": "passed", "job": "passed", "job-done": "passed", "job-logs": "passed",
        "wrong-output": "failed"}, log
    sdk = result.steps[0].entries[0]
    assert sdk.text == "python probe.py" and sdk.output.startswith("0 pods in processes")
    assert result.steps[-1].message == "the output of python probe.py does not match /^no such line$/"
    assert "pod pi-" in result.steps[7].entries[-1].text and "logged: pi=3.14" in result.steps[7].entries[-1].text
