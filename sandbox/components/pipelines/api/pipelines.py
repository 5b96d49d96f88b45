"""Pipelines and pipeline versions: KFP's pipeline store as Kubernetes objects.

KFP 2.x can keep pipelines as Kubernetes objects instead of database rows
(its "Kubernetes-native" store); the sandbox always does. A pipeline is a
``Pipeline`` and each of its versions a ``PipelineVersion``
(pipelines.kubeflow.org/v2beta1), in the ``kubeflow`` namespace, so ``kubectl
get pipelines,pipelineversions -n kubeflow`` lists what the API and the UI
show::

    Pipeline         metadata.name   a DNS-1123 name made from the API name
                     annotations     pipelines.kubeflow.org/name: the API name as given
                     spec            displayName, description
    PipelineVersion  labels          pipelines.kubeflow.org/pipeline-id: <pipeline uid>
                     ownerReferences the Pipeline (deleting it deletes its versions)
                     spec            pipelineName (the Pipeline's metadata.name), displayName,
                                     description, codeSourceURL, pipelineSpecURI,
                                     pipelineSpec (the IR), platformSpec

``pipeline_id`` and ``pipeline_version_id`` are the objects' uids. API
names (``"My pipeline"``) need not be Kubernetes names, so the object name is
derived and the API name kept in an annotation; names are unique per kind
and pipeline, as KFP requires (``AlreadyExists`` otherwise). A version's IR
is validated by the graph layer before it is stored: an invalid spec is a
400 listing every problem. A version made with kubectl belongs to the
pipeline its ``spec.pipelineName`` names.

Upload (``/pipelines/upload``, ``/pipelines/upload_version``) reads the
package (:mod:`.upload`) and goes through the same create path; uploading a
pipeline creates its first version with the same name, as KFP does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import AlreadyExists, NotFound
from sandbox.client.protocol import Client
from sandbox.components.pipelines.api.errors import (
    AlreadyExistsError,
    FailedPrecondition,
    InvalidArgument,
    NotFoundError,
)
from sandbox.components.pipelines.api.kube import (
    NAMESPACE,
    annotations_of,
    by_creation,
    ensure_namespace,
    labels_of,
)
from sandbox.components.pipelines.api.listing import ListQuery, list_page
from sandbox.components.pipelines.api.messages import compact, get_field, k8s_name, timestamp
from sandbox.components.pipelines.graph import PipelineGraph, load_ir

__all__ = ["PIPELINE", "PIPELINE_ID_LABEL", "PIPELINE_VERSION", "PipelineService", "ResolvedSpec"]

PIPELINE = ("pipelines.kubeflow.org/v2beta1", "Pipeline")
PIPELINE_VERSION = ("pipelines.kubeflow.org/v2beta1", "PipelineVersion")
NAME_ANNOTATION = "pipelines.kubeflow.org/name"
PIPELINE_ID_LABEL = "pipelines.kubeflow.org/pipeline-id"
PIPELINE_SORTABLE = ("pipeline_id", "name", "display_name", "created_at", "description")
VERSION_SORTABLE = ("pipeline_version_id", "name", "display_name", "created_at", "description")


class ResolvedSpec:
    """A pipeline spec read and validated: the IR, its platform spec, its graph."""

    def __init__(self, spec: Any) -> None:
        self.pipeline, self.platform = load_ir(spec)
        self.graph = PipelineGraph.from_ir({"pipeline_spec": self.pipeline, "platform_spec": self.platform})

    @property
    def as_message(self) -> dict[str, Any]:
        """The spec as the API returns it: the IR, or ``{pipeline_spec, platform_spec}``."""
        if self.platform:
            return {"pipeline_spec": self.pipeline, "platform_spec": self.platform}
        return self.pipeline


def _api_name(obj: Mapping[str, Any]) -> str:
    return annotations_of(obj).get(NAME_ANNOTATION) or str(obj["metadata"]["name"])


def pipeline_message(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    name = _api_name(obj)
    return compact({
        "pipeline_id": obj["metadata"]["uid"], "name": name,
        "display_name": spec.get("displayName") or name, "description": spec.get("description"),
        "created_at": timestamp(obj["metadata"].get("creationTimestamp")), "namespace": "",
    })


def version_message(obj: Mapping[str, Any], pipeline_id: str) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    name = _api_name(obj)
    pipeline_spec: Any = spec.get("pipelineSpec") or {}
    if spec.get("platformSpec"):
        pipeline_spec = {"pipeline_spec": pipeline_spec, "platform_spec": spec["platformSpec"]}
    return compact({
        "pipeline_id": pipeline_id, "pipeline_version_id": obj["metadata"]["uid"], "name": name,
        "display_name": spec.get("displayName") or name, "description": spec.get("description"),
        "created_at": timestamp(obj["metadata"].get("creationTimestamp")),
        "package_url": {"pipeline_url": spec["pipelineSpecURI"]} if spec.get("pipelineSpecURI") else None,
        "code_source_url": spec.get("codeSourceURL"), "pipeline_spec": pipeline_spec,
    })


class PipelineService:
    """The pipeline and pipeline-version endpoints over the cluster client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    # Reading ------------------------------------------------------------------------

    async def _pipelines(self) -> list[dict[str, Any]]:
        return by_creation((await self.client.list(*PIPELINE))["items"])

    async def pipeline_object(self, pipeline_id: str) -> dict[str, Any]:
        for obj in await self._pipelines():
            if obj["metadata"]["uid"] == pipeline_id:
                return obj
        raise NotFoundError(f"Pipeline {pipeline_id} not found")

    async def version_objects(self, pipeline: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The versions of ``pipeline``, oldest first."""
        meta = pipeline["metadata"]
        found = []
        for obj in (await self.client.list(*PIPELINE_VERSION))["items"]:
            label = labels_of(obj).get(PIPELINE_ID_LABEL)
            same = label == meta["uid"] or (
                not label and obj["metadata"].get("namespace") == meta.get("namespace")
                and (obj.get("spec") or {}).get("pipelineName") == meta["name"])
            if same:
                found.append(obj)
        return by_creation(found)

    async def version_object(self, pipeline_id: str, version_id: str | None) -> dict[str, Any]:
        """A version of a pipeline; its newest (the default) when ``version_id`` is empty."""
        pipeline = await self.pipeline_object(pipeline_id)
        versions = await self.version_objects(pipeline)
        if not version_id:
            if not versions:
                raise NotFoundError(f"Pipeline {pipeline_id} has no versions")
            return versions[-1]
        for obj in versions:
            if obj["metadata"]["uid"] == version_id:
                return obj
        raise NotFoundError(f"Pipeline version {version_id} of pipeline {pipeline_id} not found")

    async def find_version(self, version_id: str) -> tuple[str, dict[str, Any]]:
        """``(pipeline_id, version)`` for a version id alone."""
        pipelines = await self._pipelines()
        for obj in (await self.client.list(*PIPELINE_VERSION))["items"]:
            if obj["metadata"]["uid"] != version_id:
                continue
            label = labels_of(obj).get(PIPELINE_ID_LABEL)
            if label:
                return label, obj
            for pipeline in pipelines:
                if (pipeline["metadata"]["name"] == (obj.get("spec") or {}).get("pipelineName")
                        and pipeline["metadata"].get("namespace") == obj["metadata"].get("namespace")):
                    return str(pipeline["metadata"]["uid"]), obj
        raise NotFoundError(f"Pipeline version {version_id} not found")

    async def get_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        return pipeline_message(await self.pipeline_object(pipeline_id))

    async def get_pipeline_by_name(self, name: str) -> dict[str, Any]:
        for obj in await self._pipelines():
            if _api_name(obj) == name:
                return pipeline_message(obj)
        raise NotFoundError(f"Pipeline with name {name} not found")

    async def list_pipelines(self, query: ListQuery) -> dict[str, Any]:
        messages = [pipeline_message(obj) for obj in await self._pipelines()]
        page = list_page(messages, query, sortable=PIPELINE_SORTABLE)
        return compact({"pipelines": page.items, "total_size": page.total_size,
                        "next_page_token": page.next_page_token})

    async def get_version(self, pipeline_id: str, version_id: str) -> dict[str, Any]:
        return version_message(await self.version_object(pipeline_id, version_id), pipeline_id)

    async def list_versions(self, pipeline_id: str, query: ListQuery) -> dict[str, Any]:
        pipeline = await self.pipeline_object(pipeline_id)
        messages = [version_message(obj, pipeline_id) for obj in await self.version_objects(pipeline)]
        page = list_page(messages, query, sortable=VERSION_SORTABLE)
        return compact({"pipeline_versions": page.items, "total_size": page.total_size,
                        "next_page_token": page.next_page_token})

    # Writing ------------------------------------------------------------------------

    async def _create_named(self, obj: dict[str, Any], name: str) -> dict[str, Any]:
        """Create ``obj`` named after ``name``; a generated name when that one is taken."""
        namespace = obj["metadata"].setdefault("namespace", NAMESPACE)
        obj["metadata"]["name"] = k8s_name(name)
        try:
            return await self.client.create(obj, namespace=namespace)
        except AlreadyExists:
            del obj["metadata"]["name"]
            obj["metadata"]["generateName"] = k8s_name(name, limit=50) + "-"
            return await self.client.create(obj, namespace=namespace)

    async def create_pipeline(self, body: Mapping[str, Any]) -> dict[str, Any]:
        display = str(get_field(body, "display_name", "") or "")
        name = str(get_field(body, "name", "") or display)
        if not name.strip():
            raise InvalidArgument("Pipeline name is empty. Please specify a valid name")
        if any(_api_name(obj) == name for obj in await self._pipelines()):
            raise AlreadyExistsError(f"Pipeline with name {name} already exists")
        await ensure_namespace(self.client)
        created = await self._create_named({
            "apiVersion": PIPELINE[0], "kind": PIPELINE[1],
            "metadata": {"namespace": NAMESPACE, "annotations": {NAME_ANNOTATION: name}},
            "spec": compact({"displayName": display or name,
                             "description": get_field(body, "description", "")}),
        }, name)
        return pipeline_message(created)

    async def create_version(self, pipeline_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        pipeline = await self.pipeline_object(pipeline_id)
        spec_value = get_field(body, "pipeline_spec")
        package_url = get_field(get_field(body, "package_url", {}), "pipeline_url", "")
        if spec_value is None:
            if package_url:
                raise InvalidArgument(f"cannot fetch {package_url}: the sandbox makes no network calls; "
                                      "send the pipeline spec itself (pipeline_spec) or upload the file")
            raise InvalidArgument("Pipeline version has no pipeline spec")
        resolved = ResolvedSpec(spec_value)
        display = str(get_field(body, "display_name", "") or "")
        name = str(get_field(body, "name", "") or display or resolved.graph.name)
        versions = await self.version_objects(pipeline)
        if any(_api_name(obj) == name for obj in versions):
            raise AlreadyExistsError(f"Pipeline version with name {name} already exists in pipeline "
                                     f"{pipeline_id}")
        meta = pipeline["metadata"]
        spec = compact({
            "pipelineName": meta["name"], "displayName": display or name,
            "description": get_field(body, "description", ""),
            "codeSourceURL": get_field(body, "code_source_url", ""), "pipelineSpecURI": package_url,
            "pipelineSpec": resolved.pipeline, "platformSpec": resolved.platform,
        })
        created = await self._create_named({
            "apiVersion": PIPELINE_VERSION[0], "kind": PIPELINE_VERSION[1],
            "metadata": {
                "namespace": meta.get("namespace") or NAMESPACE,
                "labels": {PIPELINE_ID_LABEL: meta["uid"]},
                "annotations": {NAME_ANNOTATION: name},
                "ownerReferences": [{"apiVersion": PIPELINE[0], "kind": PIPELINE[1], "name": meta["name"],
                                     "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": spec,
        }, name)
        return version_message(created, pipeline_id)

    async def create_pipeline_and_version(self, body: Mapping[str, Any]) -> dict[str, Any]:
        pipeline_body = get_field(body, "pipeline", {}) or {}
        version_body = dict(get_field(body, "pipeline_version", {}) or {})
        if get_field(version_body, "pipeline_spec") is not None:
            ResolvedSpec(get_field(version_body, "pipeline_spec"))  # fail before creating anything
        pipeline = await self.create_pipeline(pipeline_body)
        version_body.setdefault("name", pipeline["name"])
        try:
            await self.create_version(pipeline["pipeline_id"], version_body)
        except Exception:
            await self._delete(PIPELINE, await self.pipeline_object(pipeline["pipeline_id"]))
            raise
        return pipeline

    async def delete_pipeline(self, pipeline_id: str, *, cascade: bool = False) -> None:
        pipeline = await self.pipeline_object(pipeline_id)
        versions = await self.version_objects(pipeline)
        if versions and not cascade:
            raise FailedPrecondition(f"Pipeline {pipeline_id} has {len(versions)} version(s); delete them "
                                     "first or pass cascade=true")
        for version in versions:
            await self._delete(PIPELINE_VERSION, version)
        await self._delete(PIPELINE, pipeline)

    async def delete_version(self, pipeline_id: str, version_id: str) -> None:
        await self._delete(PIPELINE_VERSION, await self.version_object(pipeline_id, version_id))

    async def _delete(self, kind: tuple[str, str], obj: Mapping[str, Any]) -> None:
        try:
            await self.client.delete(*kind, obj["metadata"]["name"], namespace=obj["metadata"].get("namespace"))
        except NotFound:
            pass

    # Upload ---------------------------------------------------------------------------

    async def upload(self, text: str, *, name: str, display_name: str = "", description: str = ""
                     ) -> dict[str, Any]:
        resolved = ResolvedSpec(text)
        name = name or display_name or resolved.graph.name
        pipeline = await self.create_pipeline(
            {"name": name, "display_name": display_name or name, "description": description})
        try:
            await self.create_version(pipeline["pipeline_id"], {
                "name": name, "display_name": display_name or name, "description": description,
                "pipeline_spec": resolved.as_message})
        except Exception:
            await self._delete(PIPELINE, await self.pipeline_object(pipeline["pipeline_id"]))
            raise
        return pipeline

    async def upload_version(self, text: str, *, pipeline_id: str, name: str, display_name: str = "",
                             description: str = "") -> dict[str, Any]:
        if not pipeline_id:
            raise InvalidArgument("Pipeline id is empty: pass the pipelineid query parameter")
        resolved = ResolvedSpec(text)
        return await self.create_version(pipeline_id, {
            "name": name or display_name, "display_name": display_name, "description": description,
            "pipeline_spec": resolved.as_message})
