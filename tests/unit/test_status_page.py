"""The status page as served: its inline script and style are exactly what the Content-Security-Policy allows,
and it refers to nothing outside the app (the browser test in tests/command drives the page itself)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re

import azure.durable_functions as df
import azure.functions as func

from api import status
from api.status import _page


def _sha256(source: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()}'"


def test_the_policy_allows_exactly_the_inline_script_and_style() -> None:
    html_bytes, policy = _page()
    html = html_bytes.decode()
    [script] = re.findall(r"<script>(.*?)</script>", html, re.S)
    [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == _sha256(script)
    assert directives["style-src"] == _sha256(style)
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'self'"
    assert "{{" not in html


def test_the_page_names_no_outside_address() -> None:
    html = _page()[0].decode()
    assert re.findall(r"""(?:src|href)\s*=\s*["']?(?!data:)[^"'\s>]+""", html) == []
    assert re.findall(r"https?://(?!www\.w3\.org/2000/svg)", html) == []


def test_the_route_is_a_function_key_protected_get() -> None:
    app = df.DFApp()
    app.register_functions(status.bp)
    [function] = app.get_functions()
    trigger = json.loads(next(b for b in function.get_raw_bindings() if '"httpTrigger"' in b))
    assert (trigger["methods"], trigger["route"], trigger["authLevel"]) == (["GET"], "status", "FUNCTION")


def test_the_page_is_served_with_its_policy() -> None:
    request = func.HttpRequest("GET", "http://localhost/api/status", body=b"")
    response = asyncio.run(status.status_page(request))
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == _page()[1]
    assert response.get_body() == _page()[0]
