"""GET /api/openapi.json: a valid OpenAPI 3.1 document of every route the app registers, whose link spec schema
is the model's (bodies the model accepts satisfy it), and the README's field table generated from it."""

from __future__ import annotations

import copy
import functools
import json
import runpy
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from adapters.store import LinkStore
from api import links, openapi
from api.openapi import COMPONENTS, openapi_document, spec_field_table
from kubelink.diff import DiffItem, ResourceChange
from kubelink.drift import DriftRecord
from kubelink.errors import InvalidLinkSpec
from kubelink.validation import json_path, parse_link_spec
from tests.unit.samples import BASE, REGIONAL, SUB
from tests.unit.stub_server import Answer, StubServer
from tests.unit.test_api_links import REPO, binding, call, closed_port, durable, env, name, request, spec_body, store

__all__ = ["durable", "env", "name", "store"]  # the HTTP handler tests' fixtures, used here too


@functools.cache
def registered_routes() -> frozenset[tuple[str, str]]:
    """The HTTP routes function_app registers, read from an app of its own: the SDK lists an app's functions only
    once, and the shared ``function_app.app`` is others' to list (the replay tests)."""
    app = runpy.run_path(str(REPO / "function_app.py"))["app"]
    routes = set()
    for function in app.get_functions():
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
    assert registered_routes() == documented_routes()


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


# --- every constraint the document states, the model enforces ----------------------------------------------

FULL: dict[str, Any] = {
    **BASE,
    "remediate": True,
    "dns": {"zone": "orders.internal.example", "record": "orders"},
    "kubernetes": {
        **BASE["kubernetes"],
        "aksCluster": f"/subscriptions/{SUB}/resourceGroups/kube-rg/providers/"
        "Microsoft.ContainerService/managedClusters/kube-aks",
    },
}
FULL_REGIONAL: dict[str, Any] = {**REGIONAL, "dns": FULL["dns"]}
_WRONG_TYPE = {"string": 5, "integer": "5", "boolean": "true", "object": [], "array": {}}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    components = openapi_document()["components"]["schemas"]
    while "$ref" in schema:
        schema = {
            **components[schema["$ref"].removeprefix(COMPONENTS)],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    return schema


def _violations(schema: dict[str, Any]) -> list[tuple[str, object]]:
    """Values the schema refuses, one per keyword it states."""
    schema = _resolve(schema)
    found: list[tuple[str, object]] = [("null", None)]
    kind = schema.get("type")
    if kind in _WRONG_TYPE:
        found.append(("type", _WRONG_TYPE[kind]))
    if "enum" in schema:
        found.append(("enum", "not-a-choice"))
    if "pattern" in schema:
        found.append(("pattern", "@@"))
    if "maxLength" in schema:
        found.append(("maxLength", "a" * (schema["maxLength"] + 1)))
    if schema.get("minLength", 0) > 1:
        found.append(("minLength", "a" * (schema["minLength"] - 1)))
    if "minimum" in schema:
        found += [("minimum", schema["minimum"] - 1), ("maximum", schema["maximum"] + 1)]
    if "minItems" in schema:
        found.append(("minItems", []))
    if "minProperties" in schema:
        found.append(("minProperties", {}))
    return found


def _cases(body: Any, schema: dict[str, Any], loc: tuple[Any, ...]) -> Any:
    """(what, location, value) for every field of ``body``: each keyword's violation, each required key dropped,
    an unknown key beside the known ones."""
    schema = _resolve(schema)
    for what, value in _violations(schema) if loc else []:
        yield what, loc, value
    if isinstance(body, dict) and "properties" in schema:
        yield "additionalProperties", (*loc, "unknownField"), "x"
        for key in schema.get("required", ()):
            yield "required", (*loc, key), ...
        for key, value in body.items():
            yield from _cases(value, schema["properties"][key], (*loc, key))
    elif isinstance(body, dict) and "propertyNames" in schema:
        yield "propertyNames", (*loc, "@@"), "x"
        yield "maxProperties", loc, {f"label{i}": "x" for i in range(schema["maxProperties"] + 1)}
    elif isinstance(body, list):
        yield "maxItems", loc, [{**body[0], "name": f"p{i}", "port": i + 1} for i in range(schema["maxItems"] + 1)]
        yield from _cases(body[0], schema["items"], (*loc, 0))


def _with(body: dict[str, Any], loc: tuple[Any, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    node: Any = changed
    for part in loc[:-1]:
        node = node[part]
    if value is ...:
        del node[loc[-1]]
    else:
        node[loc[-1]] = value
    return changed


@pytest.mark.parametrize("base", [FULL, FULL_REGIONAL], ids=["gateway", "regional"])
def test_every_constraint_the_schema_states_the_model_enforces(base: dict[str, Any]) -> None:
    """The model may be stricter than the document (host bits, 80.0, address conflicts), never looser: each
    violation of a keyword the spec schema states, made to a valid body, is refused naming that field."""
    jsonschema.validate(base, spec_schema())
    cases = list(_cases(base, spec_schema(), ()))
    assert len(cases) > 100
    loose = []
    for what, loc, value in cases:
        changed = _with(base, loc, value)
        assert not jsonschema.Draft202012Validator(spec_schema()).is_valid(changed), (what, loc)
        path = json_path(loc)
        try:
            parse_link_spec(json.dumps(changed))
            loose.append(f"{path}: {what} accepted")
        except InvalidLinkSpec as invalid:
            if not any(d.field == path or d.field.startswith(path) for d in invalid.details):
                loose.append(f"{path}: {what} refused on {[d.field for d in invalid.details]}")
    assert loose == []
