"""HTTP triggers: routePrefix, route parameters and constraints, methods, bodies, headers, errors."""

from __future__ import annotations

import requests


def test_route_params_query_and_response_headers(start_host):
    host = start_host("routes")
    response = requests.get(f"{host.url}/v1/items/42/widget", params={"q": "x", "code": "anykey"})
    assert response.status_code == 200
    assert response.headers["X-Item"] == "yes"
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"id": "42", "name": "widget", "q": "x"}
    assert requests.get(f"{host.url}/v1/items/42").json()["name"] is None
    assert requests.get(f"{host.url}/v1/items/abc").status_code == 404  # {id:int}
    assert requests.get(f"{host.url}/api/items/42").status_code == 404  # routePrefix is v1
    assert any("keys are not checked locally (key given)" in line for line in host.log_lines())


def test_methods_body_and_context(start_host):
    host = start_host("routes")
    posted = requests.post(f"{host.url}/v1/items", json={"a": 1}, headers={"X-Custom": "hdr"})
    assert posted.status_code == 201
    assert posted.json() == {
        "method": "POST",
        "json": {"a": 1},
        "header": "hdr",
        "url": f"{host.url}/v1/items",
        "function": "put_item",
    }
    assert requests.put(f"{host.url}/v1/items", json={}).status_code == 201
    assert requests.delete(f"{host.url}/v1/items").status_code == 404


def test_catch_all_string_return_and_errors(start_host):
    host = start_host("routes")
    response = requests.get(f"{host.url}/v1/files/a/b/c.txt")
    assert response.status_code == 200 and response.text == "path=a/b/c.txt"
    assert requests.get(f"{host.url}/v1/broken").status_code == 500
    assert any("Executed 'Functions.broken' (Failed" in line for line in host.log_lines())
    assert requests.get(f"{host.url}/v1/nothing-here").status_code == 404
