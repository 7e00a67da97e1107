"""The OpenAPI document probed property-based against the local host (schemathesis, its pytest API), on the
session world: for every documented route the app serves, generated requests (valid and invalid by the document)
never get a 5xx, every answer conforms to the document, an invalid request is refused, and a refused request
starts no run and writes nothing to Azure (the sandbox's request log) or to the link records.

Bounded: 12 examples per operation, derandomized, no explicit examples. No run can start: a body valid by the
document is mostly refused by the model's stricter rules (host bits, distinct ports, address conflicts), and any the
model accepts names a random subscription, which the scope check refuses (403: the world allows only its own).
Link names are random too, so verify finds no link (404)."""

from __future__ import annotations

import copy
from typing import Any

import hypothesis
import jsonschema
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.runs import SWEEP_INSTANCE_ID
from api.openapi import openapi_document
from local.supervisor import World
from local.world_client import WorldClient
from tests.example import example_link
from tests.unit.test_openapi import component, registered_routes

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 12
_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def host(world: World) -> WorldClient:
    return WorldClient(world.describe())


def served_document() -> dict[str, Any]:
    """The document without a route documented ahead of its handler (left out until it exists)."""
    document = copy.deepcopy(openapi_document())  # schemathesis may rewrite what it is given
    served = registered_routes()
    paths = {
        path: {k: v for k, v in item.items() if k not in _METHODS or (k.upper(), path) in served}
        for path, item in document["paths"].items()
    }
    return {**document, "paths": paths}


CONFIG = {
    "seed": 20261201,
    "generation": {"max-examples": EXAMPLES, "deterministic": True},
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False}},
    # a request invalid by the document is refused by validation itself (400), or names no link (404): a 403 or
    # 409 would mean the body got past validation
    "checks": {"negative_data_rejection": {"expected-statuses": ["400", "404"]}},
}
schema = schemathesis.openapi.from_dict(served_document(), config=SchemathesisConfig.from_dict(CONFIG))


@schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None)
def test_the_host_answers_as_documented(case: schemathesis.Case, host: WorldClient) -> None:
    writes, runs, links = len(host.arm_writes()), _runs(host), _links(host)
    response = case.call_and_validate(base_url=host.host, session=host.http, checks=CHECKS)
    if response.status_code >= 400:
        assert len(host.arm_writes()) == writes, "a refused request wrote to Azure"
        assert _runs(host) == runs, "a refused request started a run"
        assert _links(host) == links, "a refused request changed the link records"


def _runs(host: WorldClient) -> set[str]:
    """Durable instances other than the drift timer's sweep and its verifications (``verify-sweep:{link}``)."""
    answer = host.http.get(f"{host.host}/runtime/webhooks/durabletask/instances", timeout=60)
    answer.raise_for_status()
    return {i["instanceId"] for i in answer.json() if not i["instanceId"].startswith(SWEEP_INSTANCE_ID)}


def _links(host: WorldClient) -> list[object]:
    answer: requests.Response = host.http.get(f"{host.host}/api/links", timeout=60)
    return list(answer.json()["value"])


@pytest.mark.parametrize("path", ["/api/links", "/api/plan"])
def test_a_valid_spec_outside_the_scopes_is_refused_untouched(host: WorldClient, path: str) -> None:
    """What the generated bodies rarely are (valid for the model, JSON Schema cannot say "no host bits" or "not
    80.0"): a valid spec in a subscription the world does not allow is refused as documented, leaving no trace."""
    body = example_link(subscriptionId="00000000-0000-0000-0000-000000000001")
    writes, runs, links = len(host.arm_writes()), _runs(host), _links(host)
    response = host.post(path, body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ScopeNotAllowed"
    jsonschema.validate(response.json(), component("Error"))
    assert (len(host.arm_writes()), _runs(host), _links(host)) == (writes, runs, links)
