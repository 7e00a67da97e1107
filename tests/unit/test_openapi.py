"""GET /api/openapi.json: a valid OpenAPI 3.1 document of every route the app registers, whose link spec schema
is the model's (bodies the model accepts satisfy it), and the README's field table generated from it."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from adapters.store import LinkStore
from api import links, openapi
from api.openapi import openapi_document, spec_field_table
from kubelink.diff import DiffItem, ResourceChange
from kubelink.drift import DriftRecord
from kubelink.validation import parse_link_spec
from tests.unit.samples import BASE, REGIONAL, SUB
from tests.unit.stub_server import Answer, StubServer
from tests.unit.test_api_links import binding, call, closed_port, durable, env, name, request, spec_body, store

__all__ = ["durable", "env", "name", "store"]  # the HTTP handler tests' fixtures, used here too

#: documented ahead of its handler, which another change adds (README: the teardown route)
DOCUMENTED_AHEAD = {("DELETE", "/api/links/{name}")}


@functools.cache  # the SDK refuses to list an app's functions twice
def registered_routes() -> frozenset[tuple[str, str]]:
    import function_app

    routes = set()
    for function in function_app.app.get_functions():
        for raw in function.get_raw_bindings():
            binding = json.loads(raw)
            if binding["type"] == "httpTrigger":
                routes |= {(method.upper(), f"/api/{binding['route']}") for method in binding["methods"]}
    return frozenset(routes)


def documented_routes() -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return {(m.upper(), path) for path, item in openapi_document()["paths"].items() for m in item if m in methods}


def component(name: str) -> dict[str, Any]:
    """One schema of the document, its references resolvable."""
    return {"$ref": f"#/components/schemas/{name}", "components": openapi_document()["components"]}


def spec_schema() -> dict[str, Any]:
    return component("LinkSpec")


def conforms(response: Any, status: int, schema: str) -> Any:
    assert response.status_code == status
    body = json.loads(response.get_body())
    jsonschema.validate(body, component(schema))
    return body


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_registered_route_is_documented() -> None:
    assert registered_routes() == documented_routes() - DOCUMENTED_AHEAD


def test_the_route_answers_the_document() -> None:
    response = call(openapi.openapi_json, req=request("GET", "openapi.json"))
    assert response.status_code == 200
    assert json.loads(response.get_body()) == openapi_document()


@pytest.mark.parametrize("base", [BASE, REGIONAL], ids=["gateway", "regional"])
def test_bodies_the_model_accepts_satisfy_the_schema(base: dict[str, Any]) -> None:
    jsonschema.validate(base, spec_schema())
    jsonschema.validate(parse_link_spec(base).to_json(), spec_schema())  # what the link record stores


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({**BASE, "remediate": None}, "explicit null"),
        ({**BASE, "subscriptionID": SUB}, "unknown field"),
        ({k: v for k, v in BASE.items() if k != "gateway"}, "no pool on the gateway path"),
        ({**REGIONAL, "app": {"resourceGroup": "apps-rg", "name": "kubelink-demo"}}, "no subnet on the regional path"),
        (
            {**BASE, "kubernetes": {**BASE["kubernetes"], "ports": [{"port": 80, "targetPort": 80}] * 2}},
            "several unnamed ports",
        ),
    ],
)
def test_the_schema_refuses_what_the_model_refuses(body: dict[str, Any], why: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, spec_schema())


def test_the_readme_field_table_is_the_models() -> None:
    text = openapi.README.read_text()
    block = text.partition(openapi.TABLE_START)[2].partition(openapi.TABLE_END)[0].strip()
    assert block == spec_field_table(), "README.md's spec table is stale: run `python -m api.openapi readme`"
    assert "`kubernetes.ports[].targetPort`" in block and "`gateway.clientAddressPool` | with integration" in block


def test_the_handlers_answers_conform(env: None, store: LinkStore, durable: StubServer, name: str) -> None:
    """What the schemathesis run rarely reaches (a started run, records, drift): the real answers, checked."""
    instance = f"link-{name}"
    durable.on("GET", f"/durabletask/instances/{instance}", Answer(404, None))
    durable.on("POST", f"/durabletask/orchestrators/provision_link/{instance}", Answer(202, {"id": instance}))
    started = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(durable.url))
    conforms(started, 202, "CheckStatus")
    conforms(call(links.get_link, req=request("GET", f"links/{name}", name=name)), 200, "LinkRecord")
    store.record_drift([DriftRecord(name, "2026-01-31T12:00:00Z", "config", "r", "f", 1, None)])
    drift = call(links.get_link_drift, req=request("GET", f"links/{name}/drift", name=name))
    assert drift.status_code == 200
    (record,) = json.loads(drift.get_body())["value"]
    jsonschema.validate(record, component("DriftRecord"))
    invalid = call(links.start_link, req=request("POST", "links", {"name": "X"}), client=binding(closed_port()))
    assert conforms(invalid, 400, "Error")["error"]["details"]
    conforms(call(links.get_link, req=request("GET", "links/x", name="no-such-link")), 404, "Error")


def test_a_plan_row_conforms() -> None:
    row = ResourceChange("service", "default/orders", True, (DiffItem("change", ("spec", "type"), "ClusterIP", "LB"),))
    jsonschema.validate({"changes": [row.to_json()]}, component("Plan"))
