"""http and fault steps against a real in-process cluster: services answer, processes die and come back."""

from __future__ import annotations

from scenario_helpers import outcomes, run_text  # type: ignore[import-not-found]

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: {{ replicas }}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: python:3.11
        command: [python, -m, http.server, "8080"]
        ports: [{containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""

SCENARIO = """
name: healing
title: Self-healing
level: beginner
variables: {replicas: "1"}
steps:
  - name: deploy
    apply: {files: [web.yaml]}
  - name: available
    wait: {kind: deployment, name: web, condition: Available, timeout: 30s}
  - name: http
    http: {service: web, port: 80, path: /, expectStatus: 200, timeout: 15s}
  - name: kill
    fault: {action: killProcess, selector: app=web}
  - name: restarted
    wait: {kind: pods, selector: app=web, jsonpath: "{.status.containerStatuses[0].restartCount}",
           value: 1, timeout: 30s}
  - name: ready-again
    wait: {kind: pods, selector: app=web, condition: Ready, timeout: 30s}
  - name: cordon
    fault: {action: cordon, node: worker-1}
  - name: cordoned
    expect: {object: {kind: node, name: worker-1, jsonpath: "{.spec.unschedulable}", equals: true}}
  - name: uncordon
    fault: {action: uncordon, node: worker-1}
  - name: uncordoned
    expect: {object: {kind: node, name: worker-1, jsonpath: "{.spec.unschedulable}", exists: false}}
  - name: pause
    fault: {action: pauseController, controller: deployment, duration: 3s}
  - name: scale-while-paused
    apply: {files: [web.yaml]}
  - name: nothing-yet
    expect: {object: {kind: deployment, name: web, jsonpath: "{.status.replicas}", equals: 1}}
  - name: caught-up
    wait: {kind: deployment, name: web, jsonpath: "{.status.readyReplicas}", value: 2, timeout: 30s}
  - name: delete-pod
    fault: {action: deletePod, selector: app=web}
  - name: replaced
    wait: {kind: pods, selector: app=web, count: 2, condition: Ready, timeout: 30s}
  - name: drain
    fault: {action: drain, node: worker-2}
  - name: none-on-worker-2
    wait: {kind: deployment, name: web, jsonpath: "{.status.readyReplicas}", value: 2, timeout: 30s}
  - name: uncordon-2
    fault: {action: uncordon, node: worker-2}
  - name: no-such-controller
    fault: {action: pauseController, controller: nosuch, duration: 1s}
"""


async def test_services_answer_and_faults_heal(tmp_path):
    folder = tmp_path / "healing"
    text = SCENARIO.replace("files: [web.yaml]}\n  - name: nothing-yet",
                            "files: [web2.yaml]}\n  - name: nothing-yet")
    result, log = await run_text(text, folder, {"web.yaml": WEB.replace("{{ replicas }}", "1"),
                                                "web2.yaml": WEB.replace("{{ replicas }}", "2")})
    steps = outcomes(result)
    assert steps.pop("no-such-controller") == "failed", log
    assert set(steps.values()) == {"passed"}, log
    by_name = {s.name: s for s in result.steps}
    assert by_name["http"].entries[-1].output.startswith("HTTP 200")
    assert "killed process" in by_name["kill"].entries[-1].text
    assert by_name["drain"].entries[-1].output.endswith("node/worker-2 drained")
    assert "nosuch" in by_name["no-such-controller"].message


HTTP_FAILS = """
name: no-endpoints
title: A Service whose selector matches nothing
level: beginner
steps:
  - apply:
      manifest:
        apiVersion: v1
        kind: Service
        metadata: {name: lonely}
        spec:
          selector: {app: nobody}
          ports: [{port: 80, targetPort: 8080}]
  - name: unavailable
    http: {service: lonely, port: 80, expectStatus: 503, timeout: 5s}
  - name: wrong-expectation
    http: {service: lonely, port: 80, expectStatus: 200, timeout: 1s}
"""


async def test_a_service_without_endpoints_answers_503_and_a_wrong_expectation_fails(tmp_path):
    result, log = await run_text(HTTP_FAILS, tmp_path / "no-endpoints")
    assert outcomes(result)["unavailable"] == "passed", log
    failed = result.steps[2]
    assert failed.outcome == "failed"
    assert "status 503, expected 200" in failed.message
    assert 'no endpoints available for service \\"lonely\\"' in failed.details \
        or 'no endpoints available for service "lonely"' in failed.details
