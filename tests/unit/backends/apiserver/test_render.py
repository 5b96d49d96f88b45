"""Server-side printing: Tables for lists and single gets, PartialObjectMetadata."""

from __future__ import annotations

import pytest
from apiserver_helpers import TABLE, api_client, config_map, pod, widget, widget_crd

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.clock import FakeClock
from sandbox.store import Store


@pytest.fixture
def app(store: Store):
    return create_app(store=store)


async def test_a_list_asked_as_table_is_a_table_with_ages_and_metadata(app, clock: FakeClock) -> None:
    async with api_client(app) as c:
        await c.post("/api/v1/namespaces/default/pods", json=pod("p", labels={"app": "x"}))
        await clock.advance(125)
        r = await c.get("/api/v1/namespaces/default/pods?limit=500", headers={"accept": TABLE})
    table = r.json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"]["resourceVersion"]
    names = [col["name"] for col in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    wide = {col["name"] for col in table["columnDefinitions"] if col["priority"] == 1}
    assert {"IP", "Node"} <= wide  # kubectl shows them with -o wide only
    row = table["rows"][0]
    assert row["cells"][0] == "p" and row["cells"][4] == "2m5s"
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["labels"] == {"app": "x"}


async def test_a_single_get_asked_as_table_is_a_one_row_table(app) -> None:
    async with api_client(app) as c:
        await c.post("/api/v1/namespaces/default/configmaps", json=config_map("a"))
        r = await c.get("/api/v1/namespaces/default/configmaps/a", headers={"accept": TABLE})
    assert r.json()["kind"] == "Table" and len(r.json()["rows"]) == 1


async def test_include_object_none_and_object(app) -> None:
    async with api_client(app) as c:
        await c.post("/api/v1/namespaces/default/configmaps", json=config_map("a"))
        none = await c.get("/api/v1/namespaces/default/configmaps?includeObject=None",
                           headers={"accept": TABLE})
        whole = await c.get("/api/v1/namespaces/default/configmaps?includeObject=Object",
                            headers={"accept": TABLE})
    assert none.json()["rows"][0]["object"] is None
    assert whole.json()["rows"][0]["object"]["data"] == {"key": "value"}


async def test_custom_resources_print_their_printer_columns(app) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=widget_crd())
        await c.post("/apis/example.com/v1/namespaces/default/widgets", json=widget("w", size=3))
        r = await c.get("/apis/example.com/v1/namespaces/default/widgets", headers={"accept": TABLE})
    table = r.json()
    assert [col["name"] for col in table["columnDefinitions"]][:2] == ["Name", "Size"]
    assert table["rows"][0]["cells"][:2] == ["w", 3]


async def test_partial_object_metadata_lists(app) -> None:
    accept = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
    async with api_client(app) as c:
        await c.post("/api/v1/namespaces/default/configmaps", json=config_map("a"))
        r = await c.get("/api/v1/namespaces/default/configmaps", headers={"accept": accept})
    body = r.json()
    assert body["kind"] == "PartialObjectMetadataList"
    assert body["items"][0] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                "metadata": body["items"][0]["metadata"]}
    assert "data" not in body["items"][0]


async def test_pretty_indents_the_json(app) -> None:
    async with api_client(app) as c:
        r = await c.get("/api/v1/namespaces/default?pretty=true")
    assert r.text.startswith('{\n  "')
    assert r.json()["metadata"]["name"] == "default"
