"""``http``: a request to a Service or a URL, with expectations on status and JSON.

A Service is reached the way ``kubectl proxy`` users reach one — through the
API server's service proxy, ``/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH``
— which picks a ready endpoint of the Service. That works the same on the
daemon and on an ephemeral cluster, needs no privileged port, and answers
503 "no endpoints available" for a Service whose selector matches no ready
pod, which is exactly what a learner should see. A ``url`` is requested
directly (an ingress, the dashboard).

Endpoints and pods take a moment to follow a rollout, so the request is
repeated (every :data:`RETRY_INTERVAL` s) until the expectations hold or the
step's ``timeout`` passes; the step then fails with the last answer.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from sandbox.scenario.context import StepContext
from sandbox.scenario.predicates import as_text, found_text
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import Http

__all__ = ["RETRY_INTERVAL", "execute"]

RETRY_INTERVAL = 0.25
_SHOWN_BODY = 2000


async def execute(spec: Http, ctx: StepContext) -> None:
    path = spec.path if spec.path.startswith("/") else "/" + spec.path
    if spec.service is not None:
        namespace = spec.namespace or ctx.namespace
        shown = f"{spec.method} service {spec.service}:{spec.port}{path} (namespace {namespace})"
        request_path = f"/api/v1/namespaces/{namespace}/services/{spec.service}:{spec.port}/proxy{path}"
    else:
        shown = f"{spec.method} {spec.url}"
    body = None if spec.body is None else json.dumps(spec.body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    deadline = ctx.clock.monotonic() + spec.timeout
    problems: list[str] = []
    attempts = 0
    while True:
        attempts += 1
        try:
            if spec.service is not None:
                response = await ctx.target.request(spec.method, request_path, content=body,
                                                    headers=headers, timeout=spec.timeout)
            else:
                async with httpx.AsyncClient(timeout=spec.timeout) as client:
                    response = await client.request(spec.method, str(spec.url), content=body,
                                                    headers=headers)
            problems = _check(spec, response)
            answer = f"HTTP {response.status_code}\n{_shown_body(response)}"
        except httpx.HTTPError as err:
            problems, answer = [f"request failed: {err}"], f"request failed: {err}"
        if not problems:
            ctx.command(shown, answer)
            return
        if ctx.clock.monotonic() >= deadline:
            ctx.command(shown, answer)
            raise StepFailed(f"{shown}: {'; '.join(problems)} (after {attempts} attempts in "
                             f"{spec.timeout:g}s)", details=answer)
        ctx.progress(f"{shown}: {problems[0]}; trying again")
        await ctx.clock.sleep(RETRY_INTERVAL)


def _check(spec: Http, response: httpx.Response) -> list[str]:
    problems: list[str] = []
    if response.status_code != spec.expect_status:
        problems.append(f"status {response.status_code}, expected {spec.expect_status}")
    if spec.expect_json:
        try:
            document: Any = response.json()
        except ValueError:
            return [*problems, "the body is not JSON"]
        for path, wanted in spec.expect_json.items():
            found = found_text(path, document)
            if found != as_text(wanted):
                problems.append(f"{path} is {found!r}, expected {as_text(wanted)!r}")
    return problems


def _shown_body(response: httpx.Response) -> str:
    text = response.text
    return text if len(text) <= _SHOWN_BODY else text[:_SHOWN_BODY] + f"\n… ({len(text)} characters)"
