"""GET /api/openapi.json: a valid OpenAPI 3.1 document of every route the app registers, whose link spec schema
is the model's (bodies the model accepts satisfy it), and the README's field table generated from it."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from api import openapi
from api.openapi import openapi_document, spec_field_table
from kubelink.validation import parse_link_spec
from tests.unit.samples import BASE, REGIONAL, SUB
from tests.unit.test_api_links import call, request

#: documented ahead of its handler, which another change adds (the document describes PRODUCT's route)
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


def spec_schema() -> dict[str, Any]:
    """The LinkSpec schema with its references resolvable inside one document."""
    document = openapi_document()
    return {**document["components"]["schemas"]["LinkSpec"], "components": document["components"]}


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
