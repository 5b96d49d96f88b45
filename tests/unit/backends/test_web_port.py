"""The web port's index and health endpoints, and its server in the event loop."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandbox.backends.inprocess.listen import bind
from sandbox.backends.inprocess.web import WebServer, create_web_app

INDEX = {"cluster": "default", "api_url": "https://127.0.0.1:7443", "kubeconfig": "/h/kubeconfig"}


async def _hello(request: object) -> PlainTextResponse:
    return PlainTextResponse("hello")


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://web")


async def test_index_is_json_with_the_sandbox_facts_and_links() -> None:
    app = create_web_app(index=lambda: INDEX, routes=[Route("/hello", _hello, name="hello")])
    async with _client(app) as web:
        response = await web.get("/")
    assert response.json() == {**INDEX, "links": [{"name": "healthz", "url": "/healthz"},
                                                  {"name": "hello", "url": "/hello"}]}


async def test_index_is_html_for_a_browser() -> None:
    async with _client(create_web_app(index=lambda: INDEX)) as web:
        response = await web.get("/", headers={"Accept": "text/html,*/*"})
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>kf-sandbox: default</h1>" in response.text
    assert "https://127.0.0.1:7443" in response.text


async def test_mounted_routes_and_healthz_answer() -> None:
    app = create_web_app(index=lambda: INDEX, routes=[Route("/hello", _hello)])
    async with _client(app) as web:
        assert (await web.get("/healthz")).text == "ok"
        assert (await web.get("/hello")).text == "hello"


def test_binding_a_taken_port_names_the_address() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=rf"cannot listen on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)


async def test_the_server_serves_on_a_free_port_and_stops() -> None:
    server = WebServer(create_web_app(index=lambda: INDEX), port=0)
    await server.start()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{server.url}/healthz")).text == "ok"
    finally:
        await server.stop()
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", server.port))  # the port is free again
