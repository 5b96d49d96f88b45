"""The KFP REST API v2beta1 as a Starlette app: routes, request parsing, error answers.

Real Kubeflow serves this API at ``http://<host>/pipeline/apis/v2beta1/…``;
the pipelines component mounts this app under ``/pipeline`` on the sandbox's
web port, so ``kfp.Client(host="http://127.0.0.1:<web port>/pipeline")``
works unchanged. :func:`create_app` receives everything it serves from — the
cluster's client, the artifact store, where ML Metadata lives, the clock and
the experiments database — and builds one service per resource area::

    /apis/v2beta1/healthz                              GET
    /apis/v2beta1/experiments[/{id}][:archive|:unarchive]     → ExperimentStore (.experiments)
    /apis/v2beta1/pipelines[/{id}][/versions[/{vid}]], /names/{name},
                  /create, /upload, /upload_version    → PipelineService (.pipelines)
    /apis/v2beta1/runs[/{id}][:archive|:unarchive|:terminate|:retry]  → RunService (.runs)
    /apis/v2beta1/recurringruns[/{id}][:enable|:disable]              → RecurringRunService (.recurring)

Every handler answers JSON; every failure answers KFP's error body
(:mod:`.errors`) with the status grpc-gateway would use — a 404 for an
unknown id, a 400 for an invalid request (an invalid pipeline spec lists
its problems), a 409 for a name in use — and an unknown path under
``/apis`` is a JSON 404 too. Nothing here blocks the event loop for long:
the cluster client is async, the experiments table and ML Metadata are
small local SQLite files.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.client.protocol import Client
from sandbox.clock import Clock
from sandbox.components.pipelines.api.errors import (
    InternalError,
    InvalidArgument,
    KfpError,
    NotFoundError,
    error_body,
    from_exception,
)
from sandbox.components.pipelines.api.experiments import MEMORY, ExperimentStore
from sandbox.components.pipelines.api.listing import ListQuery, list_page
from sandbox.components.pipelines.api.messages import compact, get_field
from sandbox.components.pipelines.api.pipelines import PipelineService
from sandbox.components.pipelines.api.recurring import RecurringRunService
from sandbox.components.pipelines.api.runs import RunService
from sandbox.components.pipelines.api.upload import package_text, uploaded_file
from sandbox.components.pipelines.storage import ArtifactStore

__all__ = ["API_PREFIX", "KfpApi", "create_app"]

log = logging.getLogger(__name__)

API_PREFIX = "/apis/v2beta1"
EXPERIMENT_SORTABLE = ("experiment_id", "display_name", "created_at", "last_run_created_at",
                       "storage_state", "description")

Handler = Callable[[Request], Awaitable[Any]]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise InvalidArgument(f"the request body is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise InvalidArgument("the request body must be a JSON object")
    return body


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _endpoint(action: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` answering JSON, and KFP's error body for whatever it raises."""

    async def respond(request: Request) -> Response:
        try:
            result = await handler(request)
        except Exception as exc:
            err = from_exception(exc).during(action)
            if isinstance(err, InternalError) and not isinstance(exc, KfpError):
                log.exception("KFP API: %s failed", action)
            return JSONResponse(error_body(err), status_code=err.http_status)
        return JSONResponse(result if result is not None else {})

    return respond


class KfpApi:
    """The API's handlers over its services (one instance per app)."""

    def __init__(self, client: Client, *, artifacts: ArtifactStore, metadata_path: Path | None, clock: Clock,
                 database: str | Path = MEMORY) -> None:
        self.experiments = ExperimentStore(database, clock=clock)
        self.pipelines = PipelineService(client)
        self.runs = RunService(client, experiments=self.experiments, pipelines=self.pipelines,
                               artifacts=artifacts, metadata_path=metadata_path, clock=clock)
        self.recurring = RecurringRunService(client, runs=self.runs, clock=clock)

    # healthz ---------------------------------------------------------------------------------

    async def healthz(self, request: Request) -> dict[str, Any]:
        return {"multi_user": False, "pipeline_store": "kubernetes"}

    # experiments -----------------------------------------------------------------------------

    async def create_experiment(self, request: Request) -> dict[str, Any]:
        body = await _body(request)
        name = str(get_field(body, "display_name", "") or get_field(body, "name", "") or "")
        return self.experiments.create(name, description=str(get_field(body, "description", "") or ""))

    async def list_experiments(self, request: Request) -> dict[str, Any]:
        page = list_page(self.experiments.list(), ListQuery.from_params(_params(request)),
                         sortable=EXPERIMENT_SORTABLE,
                         aliases={"name": "display_name", "id": "experiment_id"})
        return compact({"experiments": page.items, "total_size": page.total_size,
                        "next_page_token": page.next_page_token})

    async def get_experiment(self, request: Request) -> dict[str, Any]:
        return self.experiments.get(request.path_params["experiment_id"])

    async def archive_experiment(self, request: Request) -> None:
        experiment_id = request.path_params["experiment_id"]
        self.experiments.set_storage_state(experiment_id, "ARCHIVED")
        await self.runs.archive_experiment(experiment_id)
        await self.recurring.disable_experiment(experiment_id)

    async def unarchive_experiment(self, request: Request) -> None:
        self.experiments.set_storage_state(request.path_params["experiment_id"], "AVAILABLE")

    async def delete_experiment(self, request: Request) -> None:
        self.experiments.delete(request.path_params["experiment_id"])

    # pipelines --------------------------------------------------------------------------------

    async def create_pipeline(self, request: Request) -> dict[str, Any]:
        return await self.pipelines.create_pipeline(await _body(request))

    async def create_pipeline_and_version(self, request: Request) -> dict[str, Any]:
        return await self.pipelines.create_pipeline_and_version(await _body(request))

    async def list_pipelines(self, request: Request) -> dict[str, Any]:
        return await self.pipelines.list_pipelines(ListQuery.from_params(_params(request)))

    async def get_pipeline(self, request: Request) -> dict[str, Any]:
        return await self.pipelines.get_pipeline(request.path_params["pipeline_id"])

    async def get_pipeline_by_name(self, request: Request) -> dict[str, Any]:
        return await self.pipelines.get_pipeline_by_name(request.path_params["name"])

    async def delete_pipeline(self, request: Request) -> None:
        await self.pipelines.delete_pipeline(request.path_params["pipeline_id"],
                                             cascade=_flag(request.query_params.get("cascade")))

    async def create_version(self, request: Request) -> dict[str, Any]:
        return await self.pipelines.create_version(request.path_params["pipeline_id"], await _body(request))

    async def list_versions(self, request: Request) -> dict[str, Any]:
        return await self.pipelines.list_versions(request.path_params["pipeline_id"],
                                                  ListQuery.from_params(_params(request)))

    async def get_version(self, request: Request) -> dict[str, Any]:
        return await self.pipelines.get_version(request.path_params["pipeline_id"],
                                                request.path_params["pipeline_version_id"])

    async def delete_version(self, request: Request) -> None:
        await self.pipelines.delete_version(request.path_params["pipeline_id"],
                                            request.path_params["pipeline_version_id"])

    async def _upload(self, request: Request) -> tuple[str, str, dict[str, str]]:
        upload = uploaded_file(await request.body(), request.headers.get("content-type", ""))
        return package_text(upload), upload.stem, _params(request)

    async def upload_pipeline(self, request: Request) -> dict[str, Any]:
        text, stem, params = await self._upload(request)
        return await self.pipelines.upload(
            text, name=params.get("name") or params.get("display_name") or stem,
            display_name=params.get("display_name", ""), description=params.get("description", ""))

    async def upload_pipeline_version(self, request: Request) -> dict[str, Any]:
        text, stem, params = await self._upload(request)
        return await self.pipelines.upload_version(
            text, pipeline_id=params.get("pipelineid") or params.get("pipeline_id") or "",
            name=params.get("name") or params.get("display_name") or stem,
            display_name=params.get("display_name", ""), description=params.get("description", ""))

    # runs --------------------------------------------------------------------------------------

    async def create_run(self, request: Request) -> dict[str, Any]:
        body = await _body(request)
        if request.query_params.get("experiment_id") and not get_field(body, "experiment_id"):
            body["experiment_id"] = request.query_params["experiment_id"]
        return await self.runs.create(body)

    async def list_runs(self, request: Request) -> dict[str, Any]:
        return await self.runs.list(_params(request))

    async def get_run(self, request: Request) -> dict[str, Any]:
        return await self.runs.get(request.path_params["run_id"])

    async def delete_run(self, request: Request) -> None:
        await self.runs.delete(request.path_params["run_id"])

    async def terminate_run(self, request: Request) -> None:
        await self.runs.terminate(request.path_params["run_id"])

    async def retry_run(self, request: Request) -> None:
        await self.runs.retry(request.path_params["run_id"])

    async def archive_run(self, request: Request) -> None:
        await self.runs.set_storage_state(request.path_params["run_id"], "ARCHIVED")

    async def unarchive_run(self, request: Request) -> None:
        await self.runs.set_storage_state(request.path_params["run_id"], "AVAILABLE")

    # recurring runs ---------------------------------------------------------------------------

    async def create_recurring_run(self, request: Request) -> dict[str, Any]:
        return await self.recurring.create(await _body(request))

    async def list_recurring_runs(self, request: Request) -> dict[str, Any]:
        return await self.recurring.list(_params(request))

    async def get_recurring_run(self, request: Request) -> dict[str, Any]:
        return await self.recurring.get(request.path_params["recurring_run_id"])

    async def enable_recurring_run(self, request: Request) -> None:
        await self.recurring.set_enabled(request.path_params["recurring_run_id"], True)

    async def disable_recurring_run(self, request: Request) -> None:
        await self.recurring.set_enabled(request.path_params["recurring_run_id"], False)

    async def delete_recurring_run(self, request: Request) -> None:
        await self.recurring.delete(request.path_params["recurring_run_id"],
                                    propagation_policy=request.query_params.get("propagation_policy", ""))

    async def unknown(self, request: Request) -> None:
        raise NotFoundError(f"no API at {request.method} {request.url.path}")

    # routes -------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        table: list[tuple[str, str, Handler, str]] = [
            ("GET", "/healthz", self.healthz, "Failed to get healthz data"),
            ("POST", "/experiments", self.create_experiment, "Failed to create experiment"),
            ("GET", "/experiments", self.list_experiments, "Failed to list experiments"),
            ("POST", "/experiments/{experiment_id}:archive", self.archive_experiment,
             "Failed to archive experiment"),
            ("POST", "/experiments/{experiment_id}:unarchive", self.unarchive_experiment,
             "Failed to unarchive experiment"),
            ("GET", "/experiments/{experiment_id}", self.get_experiment, "Failed to get experiment"),
            ("DELETE", "/experiments/{experiment_id}", self.delete_experiment, "Failed to delete experiment"),
            ("POST", "/pipelines/upload", self.upload_pipeline, "Failed to upload pipeline"),
            ("POST", "/pipelines/upload_version", self.upload_pipeline_version,
             "Failed to upload pipeline version"),
            ("POST", "/pipelines/create", self.create_pipeline_and_version,
             "Failed to create pipeline and version"),
            ("POST", "/pipelines", self.create_pipeline, "Failed to create pipeline"),
            ("GET", "/pipelines", self.list_pipelines, "Failed to list pipelines"),
            ("GET", "/pipelines/names/{name}", self.get_pipeline_by_name, "Failed to get pipeline by name"),
            ("POST", "/pipelines/{pipeline_id}/versions", self.create_version,
             "Failed to create pipeline version"),
            ("GET", "/pipelines/{pipeline_id}/versions", self.list_versions, "Failed to list pipeline versions"),
            ("GET", "/pipelines/{pipeline_id}/versions/{pipeline_version_id}", self.get_version,
             "Failed to get pipeline version"),
            ("DELETE", "/pipelines/{pipeline_id}/versions/{pipeline_version_id}", self.delete_version,
             "Failed to delete pipeline version"),
            ("GET", "/pipelines/{pipeline_id}", self.get_pipeline, "Failed to get pipeline"),
            ("DELETE", "/pipelines/{pipeline_id}", self.delete_pipeline, "Failed to delete pipeline"),
            ("POST", "/runs", self.create_run, "Failed to create a new run"),
            ("GET", "/runs", self.list_runs, "Failed to list runs"),
            ("POST", "/runs/{run_id}:terminate", self.terminate_run, "Failed to terminate run"),
            ("POST", "/runs/{run_id}:retry", self.retry_run, "Failed to retry run"),
            ("POST", "/runs/{run_id}:archive", self.archive_run, "Failed to archive run"),
            ("POST", "/runs/{run_id}:unarchive", self.unarchive_run, "Failed to unarchive run"),
            ("GET", "/runs/{run_id}", self.get_run, "Failed to get run"),
            ("DELETE", "/runs/{run_id}", self.delete_run, "Failed to delete run"),
            ("POST", "/recurringruns", self.create_recurring_run, "Failed to create a recurring run"),
            ("GET", "/recurringruns", self.list_recurring_runs, "Failed to list recurring runs"),
            ("POST", "/recurringruns/{recurring_run_id}:enable", self.enable_recurring_run,
             "Failed to enable recurring run"),
            ("POST", "/recurringruns/{recurring_run_id}:disable", self.disable_recurring_run,
             "Failed to disable recurring run"),
            ("GET", "/recurringruns/{recurring_run_id}", self.get_recurring_run, "Failed to get recurring run"),
            ("DELETE", "/recurringruns/{recurring_run_id}", self.delete_recurring_run,
             "Failed to delete recurring run"),
        ]
        routes = [Route(API_PREFIX + path, _endpoint(action, handler), methods=[method])
                  for method, path, handler, action in table]
        routes.append(Route("/apis/{rest:path}", _endpoint("Not found", self.unknown),
                            methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))
        return routes


def create_app(client: Client, *, artifacts: ArtifactStore, metadata_path: Path | None, clock: Clock,
               database: str | Path = MEMORY) -> Starlette:
    """The KFP API app over a cluster's ``client`` (mount it at ``/pipeline``).

    ``database`` is the experiments' SQLite file (in memory by default, for
    tests); ``metadata_path`` the ML Metadata database the workflow
    controller writes (read for task artifacts; absent until a task ran).
    """
    api = KfpApi(client, artifacts=artifacts, metadata_path=metadata_path, clock=clock, database=database)
    app = Starlette(routes=api.routes())
    app.state.kfp = api
    return app
