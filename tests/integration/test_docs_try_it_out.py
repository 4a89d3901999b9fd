"""Swagger UI's "Try it out" works on every service at the address it was started on: the
OpenAPI documents name a relative server ("/"), so the page calls the instance that served it
(same origin, allowed by the page's Content-Security-Policy), on whatever port it listens.

A real browser (Debian's Chromium driven by npm playwright-core) opens each docs page, expands
GET /health, clicks "Try it out" and "Execute", and must see 200 from that instance.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_docs_try_it_out.py
"""
import json
import os
import subprocess
from pathlib import Path

import requests

from conftest import ALL_SERVICES, SERVICES, SOURCE_DIR

NODE_MODULES = Path(os.environ.get("PLATFORM_NODE_MODULES") or SOURCE_DIR / "tools" / "node_modules")


def test_every_openapi_document_names_a_relative_server(module_launch):
    for name in ALL_SERVICES:
        server = module_launch(name)
        doc = server.get(SERVICES[name].openapi_json).json()
        assert doc["servers"] == [{"url": "/"}], f"{name}: {doc['servers']}"


def test_try_it_out_on_health_answers_200_from_the_instance_that_served_the_page(module_launch):
    servers = {name: module_launch(name) for name in ALL_SERVICES}
    urls = [servers[n].url(SERVICES[n].docs_path) for n in ALL_SERVICES]
    out = subprocess.run(["node", str(SOURCE_DIR / "tests" / "integration" / "js" / "swagger_try.cjs"), *urls],
                         capture_output=True, text=True, timeout=300, cwd=NODE_MODULES.parent,
                         env=dict(os.environ, NODE_PATH=str(NODE_MODULES)))
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert len(results) == len(ALL_SERVICES)
    for name, result in zip(ALL_SERVICES, results):
        server = servers[name]
        assert result.get("status") == "200", f"{name}: {result}"
        assert result["calls"] == [server.url("/health")], f"{name}: called {result['calls']}, not {server.url('/health')}"
        assert not result["errors"], f"{name}: {result['errors']}"
        assert json.loads(result["body"]), name
        # What the page showed is this instance's own answer.
        assert server.get("/health").status_code == 200
