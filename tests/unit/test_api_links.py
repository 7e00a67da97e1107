"""The HTTP handlers, called the way the Functions worker calls them (``HttpRequest`` + the durable client's
binding JSON), against a loopback stand-in of the Durable extension's HTTP API and a real Azurite.

Refusals (400/403) get a binding pointing at a closed port: had they touched the durable client, they would
have answered 503, so their answer proves nothing was started."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.durable_functions.models.utils import http_utils

from adapters.store import LinkStore
from api import links
from kubelink.conditions import READY, Condition
from local.azurite import Azurite
from tests.unit.samples import BASE, SUB
from tests.unit.stub_server import Answer, StubServer, arm_failure, paths

HUB = "KubelinkHub"
ALLOWED = f"/subscriptions/{SUB}"
REPO = Path(__file__).resolve().parents[2]


def binding(rpc_base: str) -> str:
    """The durableClient binding JSON the Functions host hands a client function (docs/durable.md §3)."""
    base = "http://127.0.0.1:7071/runtime/webhooks/durabletask"
    query = f"taskHub={HUB}&connection=Storage&code=K"
    return json.dumps(
        {
            "taskHubName": HUB,
            "creationUrls": {
                "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?code=K",
                "createAndWaitOnNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?code=K",
            },
            "managementUrls": {
                "id": "INSTANCEID",
                "statusQueryGetUri": f"{base}/instances/INSTANCEID?{query}",
                "sendEventPostUri": f"{base}/instances/INSTANCEID/raiseEvent/{{eventName}}?{query}",
                "terminatePostUri": f"{base}/instances/INSTANCEID/terminate?reason={{text}}&{query}",
                "rewindPostUri": f"{base}/instances/INSTANCEID/rewind?reason={{text}}&{query}",
                "purgeHistoryDeleteUri": f"{base}/instances/INSTANCEID?{query}",
                "restartPostUri": f"{base}/instances/INSTANCEID/restart?{query}",
                "suspendPostUri": f"{base}/instances/INSTANCEID/suspend?reason={{text}}&{query}",
                "resumePostUri": f"{base}/instances/INSTANCEID/resume?reason={{text}}&{query}",
            },
            "baseUrl": base,
            "requiredQueryStringParameters": "code=K",
            "rpcBaseUrl": f"{rpc_base}/durabletask/",
        }
    )


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def call(function: Any, **kwargs: Any) -> func.HttpResponse:
    """Invoke a decorated function as the worker does, on a fresh event loop."""
    handler: Callable[..., Any] = function.build().get_user_function()

    async def invoke() -> func.HttpResponse:
        try:
            return await handler(**kwargs)
        finally:
            await http_utils._close_session()  # the SDK's session is bound to this loop

    return asyncio.run(invoke())


def request(method: str, path: str, body: object = b"", **route: str) -> func.HttpRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    url = f"http://127.0.0.1:7071/api/{path}"
    query = dict(part.split("=", 1) for part in url.partition("?")[2].split("&") if part)
    return func.HttpRequest(method, url.partition("?")[0], body=raw, params=query, route_params=route)


def answer(response: func.HttpResponse) -> dict[str, Any]:
    # ours set the mimetype; the Durable SDK's check-status response sets the header
    assert (response.headers.get("Content-Type") or response.mimetype).startswith("application/json")
    body: dict[str, Any] = json.loads(response.get_body())
    return body


def status_body(instance: str, runtime: str) -> dict[str, Any]:
    return {
        "name": "provision_link",
        "instanceId": instance,
        "runtimeStatus": runtime,
        "input": "{}",
        "customStatus": None,
        "output": None,
        "createdTime": "2026-01-31T12:00:00Z",
        "lastUpdatedTime": "2026-01-31T12:00:01Z",
    }


@pytest.fixture
def env(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    monkeypatch.setenv("KUBELINK_ALLOWED_SCOPES", ALLOWED)
    monkeypatch.setenv("KUBELINK_POLL_SECONDS", "2")


@pytest.fixture
def store(azurite: Azurite) -> LinkStore:
    return LinkStore.from_connection_string(azurite.connection_string)


@pytest.fixture
def durable() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def name() -> str:
    return f"api-{uuid.uuid4().hex[:10]}"


def spec_body(name: str) -> dict[str, Any]:
    return {**BASE, "name": name}


# --- POST /api/links: refusals touch nothing ----------------------------------------------------------


def test_bad_body_is_400_naming_every_field(env: None, store: LinkStore, name: str) -> None:
    bad = {**spec_body(name), "subscriptionId": "nope", "kubernetes": {**BASE["kubernetes"], "ports": []}}
    response = call(links.start_link, req=request("POST", "links", bad), client=binding(closed_port()))
    assert response.status_code == 400
    error = answer(response)["error"]
    assert error["code"] == "InvalidLinkSpec"
    assert error["message"] == "The link spec has 2 invalid fields: see details"
    assert {d["field"] for d in error["details"]} == {"subscriptionId", "kubernetes.ports"}
    assert store.get_link(name) is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [(b"", "body"), (b"not json", "body"), (b"[1]", "body"), (b"{" + b" " * 70_000 + b"}", "body")],
    ids=["empty", "not-json", "array", "oversized"],
)
def test_unparseable_bodies_are_400_on_body(env: None, raw: bytes, field: str) -> None:
    response = call(links.start_link, req=request("POST", "links", raw), client=binding(closed_port()))
    assert response.status_code == 400
    assert [d["field"] for d in answer(response)["error"]["details"]] == [field]


def test_unset_scopes_refuse_everything_with_the_how_to(
    env: None, store: LinkStore, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBELINK_ALLOWED_SCOPES")
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(closed_port()))
    assert response.status_code == 403
    error = answer(response)["error"]
    assert error["code"] == "ScopeNotAllowed"
    assert "KUBELINK_ALLOWED_SCOPES is not set" in error["message"]
    assert "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}" in error["message"]
    assert error["details"] == []
    assert store.get_link(name) is None


def test_a_scope_outside_the_allowed_ones_is_403_naming_it(
    env: None, store: LinkStore, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBELINK_ALLOWED_SCOPES", f"/subscriptions/{SUB}/resourceGroups/kube-rg")
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(closed_port()))
    assert response.status_code == 403
    assert f"/subscriptions/{SUB}/resourceGroups/apps-rg" in answer(response)["error"]["message"]
    assert store.get_link(name) is None


def test_a_bad_setting_is_500_naming_it(env: None, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBELINK_POLL_SECONDS", "soon")
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(closed_port()))
    assert response.status_code == 500
    error = answer(response)["error"]
    assert error["code"] == "InvalidSetting"
    assert "KUBELINK_POLL_SECONDS" in error["message"]


def test_durable_backend_down_is_503_and_nothing_recorded(env: None, store: LinkStore, name: str) -> None:
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(closed_port()))
    assert response.status_code == 503
    assert answer(response)["error"]["code"] == "DurableUnavailable"
    assert store.get_link(name) is None


# --- POST /api/links: start, busy, race ----------------------------------------------------------


def test_a_good_body_starts_provisioning_and_records_the_link(
    env: None, store: LinkStore, durable: StubServer, name: str
) -> None:
    instance = f"link-{name}"
    durable.on("GET", f"/durabletask/instances/{instance}", Answer(404, None))
    durable.on("POST", f"/durabletask/orchestrators/provision_link/{instance}", Answer(202, {"id": instance}))
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(durable.url))
    assert response.status_code == 202
    body = answer(response)
    assert body["id"] == instance
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert {"statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri"} <= set(body)
    start = durable.requests[-1]
    run = json.loads(json.loads(start.body))  # the 1.x client double-encodes its input
    assert run["spec"]["name"] == name and run["spec"]["gateway"]["name"] == "kube-vnet-gw"
    assert run["options"]["pollSeconds"] == 2
    record = store.get_link(name)
    assert record is not None
    assert record.spec == run["spec"]
    assert record.provision_instance == instance
    assert record.ready is not None
    assert (record.ready.status, record.ready.reason) == ("Unknown", "Provisioning")


@pytest.mark.parametrize("runtime", ["Running", "Pending", "Suspended", "ContinuedAsNew"])
def test_a_running_link_is_409_with_its_status_url(
    env: None, store: LinkStore, durable: StubServer, name: str, runtime: str
) -> None:
    instance = f"link-{name}"
    durable.on("GET", f"/durabletask/instances/{instance}", Answer(202, status_body(instance, runtime)))
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(durable.url))
    assert response.status_code == 409
    error = answer(response)["error"]
    assert error["code"] == "LinkBusy"
    assert error["instanceId"] == instance
    assert error["statusQueryGetUri"].startswith(
        f"http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/{instance}?"
    )
    assert [p.split(" ")[0] for p in paths(durable)] == ["GET"]  # nothing started
    assert store.get_link(name) is None


@pytest.mark.parametrize("runtime", ["Completed", "Failed", "Terminated", "Canceled"])
def test_a_finished_run_does_not_block_a_new_one(env: None, durable: StubServer, name: str, runtime: str) -> None:
    instance = f"link-{name}"
    durable.on("GET", f"/durabletask/instances/{instance}", Answer(200, status_body(instance, runtime)))
    durable.on("POST", f"/durabletask/orchestrators/provision_link/{instance}", Answer(202, {"id": instance}))
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(durable.url))
    assert response.status_code == 202


def test_losing_the_start_race_is_409(env: None, store: LinkStore, durable: StubServer, name: str) -> None:
    instance = f"link-{name}"
    durable.on("GET", f"/durabletask/instances/{instance}", Answer(202, status_body(instance, "Running")))
    durable.on("GET", f"/durabletask/instances/{instance}", Answer(404, None, times=1))
    durable.on("POST", f"/durabletask/orchestrators/provision_link/{instance}", Answer(500, {"Message": "exists"}))
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(durable.url))
    assert response.status_code == 409
    assert answer(response)["error"]["code"] == "LinkBusy"
    assert store.get_link(name) is None


def test_a_start_failure_that_is_not_a_race_is_500_without_internals(
    env: None, store: LinkStore, durable: StubServer, name: str
) -> None:
    instance = f"link-{name}"
    durable.on("GET", f"/durabletask/instances/{instance}", Answer(404, None))
    failure = {"Message": "x", "ExceptionMessage": "The function 'provision_link' doesn't exist"}
    durable.on("POST", f"/durabletask/orchestrators/provision_link/{instance}", Answer(400, failure))
    response = call(links.start_link, req=request("POST", "links", spec_body(name)), client=binding(durable.url))
    assert response.status_code == 500
    assert answer(response)["error"]["code"] == "InternalError"
    assert store.get_link(name) is None


# --- reads ------------------------------------------------------------------------------------------------


def test_list_and_get(env: None, store: LinkStore, name: str) -> None:
    store.upsert_link(name, spec=spec_body(name), private_address="10.240.16.25")
    listed = answer(call(links.list_links, req=request("GET", "links")))
    mine = [r for r in listed["value"] if r["name"] == name]
    assert len(mine) == 1
    assert set(mine[0]) == {
        "name",
        "spec",
        "privateAddress",
        "conditions",
        "lastProvisioned",
        "lastVerified",
        "ownership",
    }
    assert mine[0]["ownership"] == {"created": [], "adopted": {}}
    response = call(links.get_link, req=request("GET", f"links/{name}", name=name))
    assert response.status_code == 200
    assert answer(response) == mine[0]
    assert answer(response)["conditions"][0]["type"] == READY


@pytest.mark.parametrize("missing", ["no-such-link", "Bad Name", "../etc", "a'b", ""])
def test_unknown_or_impossible_names_are_404(env: None, missing: str) -> None:
    response = call(links.get_link, req=request("GET", "links/x", name=missing))
    assert response.status_code == 404
    assert answer(response)["error"]["code"] == "LinkNotFound"


def test_drift_newest_first_with_top(env: None, store: LinkStore, name: str) -> None:
    from kubelink.drift import DriftRecord

    store.upsert_link(name, spec=spec_body(name))
    store.record_drift(
        [DriftRecord(name, f"2026-01-31T12:{m:02d}:00Z", "config", "r", f"f{m}", 1, 2) for m in (0, 15, 30)]
    )
    everything = answer(call(links.get_link_drift, req=request("GET", f"links/{name}/drift", name=name)))
    assert [r["field"] for r in everything["value"]] == ["f30", "f15", "f0"]
    assert set(everything["value"][0]) == {
        "link",
        "detectedAt",
        "kind",
        "resource",
        "field",
        "expected",
        "actual",
        "remediated",
        "restartsApp",
        "ownership",
    }
    top = answer(call(links.get_link_drift, req=request("GET", f"links/{name}/drift?top=1", name=name)))
    assert [r["field"] for r in top["value"]] == ["f30"]


def test_drift_of_unknown_link_is_404_and_bad_top_is_400(env: None, store: LinkStore, name: str) -> None:
    assert call(links.get_link_drift, req=request("GET", "links/x/drift", name=name)).status_code == 404
    store.upsert_link(name, spec=spec_body(name))
    for top in ("0", "-1", "many", "1001"):
        response = call(links.get_link_drift, req=request("GET", f"links/{name}/drift?top={top}", name=name))
        assert response.status_code == 400
        assert answer(response)["error"]["code"] == "InvalidQuery"


def test_storage_down_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.data.tables import TableServiceClient

    port = closed_port().rsplit(":", 1)[1]
    connection = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1"
    )
    unreachable = LinkStore(TableServiceClient.from_connection_string(connection, retry_total=0))
    monkeypatch.setattr("adapters.store.LinkStore.from_env", lambda: unreachable)
    response = call(links.list_links, req=request("GET", "links"))
    assert response.status_code == 503
    assert answer(response)["error"]["code"] == "ConnectionFailed"


# --- POST /api/links/{name}/verify ----------------------------------------------------------------------


def test_verify_starts_a_verification(env: None, store: LinkStore, durable: StubServer, name: str) -> None:
    store.upsert_link(name, spec=spec_body(name), conditions=[Condition(READY, "True", "Provisioned")])
    instance = f"verify-link-{name}"
    durable.on("GET", "/durabletask/instances/.*", Answer(404, None))
    durable.on("POST", f"/durabletask/orchestrators/verify_link/{instance}", Answer(202, {"id": instance}))
    response = call(
        links.verify_link_now, req=request("POST", f"links/{name}/verify", name=name), client=binding(durable.url)
    )
    assert response.status_code == 202
    assert answer(response)["id"] == instance
    assert list(paths(durable)) == [
        f"GET /durabletask/instances/link-{name}",
        f"GET /durabletask/instances/teardown-link-{name}",
        f"GET /durabletask/instances/{instance}",
        f"POST /durabletask/orchestrators/verify_link/{instance}",
    ]
    run = json.loads(json.loads(durable.requests[-1].body))
    assert run == {"name": name, "options": run["options"]} and run["options"]["pollSeconds"] == 2
    record = store.get_link(name)
    assert record is not None and record.verify_instance == instance
    assert record.ready is not None and record.ready.status == "True"  # verification alone changes no condition


def test_verify_unknown_link_is_404(env: None, name: str) -> None:
    response = call(
        links.verify_link_now, req=request("POST", "links/x/verify", name=name), client=binding(closed_port())
    )
    assert response.status_code == 404


def test_verify_waits_for_provisioning(env: None, store: LinkStore, durable: StubServer, name: str) -> None:
    store.upsert_link(name, spec=spec_body(name))
    durable.on("GET", f"/durabletask/instances/link-{name}", Answer(202, status_body(f"link-{name}", "Running")))
    response = call(
        links.verify_link_now, req=request("POST", f"links/{name}/verify", name=name), client=binding(durable.url)
    )
    assert response.status_code == 409
    error = answer(response)["error"]
    assert (error["code"], error["instanceId"]) == ("LinkBusy", f"link-{name}")
    assert "being provisioned" in error["message"]


def test_verify_refuses_a_link_whose_scope_was_withdrawn(
    env: None, store: LinkStore, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.upsert_link(name, spec=spec_body(name))
    monkeypatch.setenv("KUBELINK_ALLOWED_SCOPES", "/subscriptions/00000000-0000-0000-0000-000000000001")
    response = call(
        links.verify_link_now, req=request("POST", f"links/{name}/verify", name=name), client=binding(closed_port())
    )
    assert response.status_code == 403


# --- POST /api/plan ------------------------------------------------------------------------------------------


def test_plan_answers_the_planners_changes(env: None, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def plan(spec: Any) -> dict[str, Any]:
        seen.append(spec.name)
        return {"changes": [{"step": "service", "resource": "default/x", "action": "create", "fields": []}]}

    monkeypatch.setattr("activities.planning.plan", plan)
    response = call(links.plan_link_http, req=request("POST", "plan", spec_body(name)))
    assert response.status_code == 200
    assert answer(response)["changes"][0]["action"] == "create"
    assert answer(response)["changes"][0]["ownership"] == "owned"  # kubelink would create it
    assert seen == [name]


@pytest.mark.parametrize(("body", "status"), [({"name": "x"}, 400), (None, 403)], ids=["invalid", "out-of-scope"])
def test_plan_refusals_read_nothing(
    env: None, name: str, monkeypatch: pytest.MonkeyPatch, body: object, status: int
) -> None:
    def plan(spec: Any) -> dict[str, Any]:
        raise AssertionError("a refused plan must not read Azure")

    monkeypatch.setattr("activities.planning.plan", plan)
    monkeypatch.setenv("KUBELINK_ALLOWED_SCOPES", "/subscriptions/00000000-0000-0000-0000-000000000001")
    response = call(links.plan_link_http, req=request("POST", "plan", body or spec_body(name)))
    assert response.status_code == status


def test_plan_reports_the_platforms_refusal(env: None, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.core.exceptions import HttpResponseError

    with StubServer() as server:
        refusal = arm_failure(server, 403, {"error": {"code": "AuthorizationFailed", "message": "no read on vnet"}})

    def plan(spec: Any) -> dict[str, Any]:
        raise refusal

    monkeypatch.setattr("activities.planning.plan", plan)
    response = call(links.plan_link_http, req=request("POST", "plan", spec_body(name)))
    assert isinstance(refusal, HttpResponseError)
    assert response.status_code == 502
    error = answer(response)["error"]
    assert (error["code"], error["message"], error["resource"]) == ("AuthorizationFailed", "no read on vnet", "/thing")


def test_plan_unreachable_platform_is_503_and_a_bug_is_500(
    env: None, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(spec: Any) -> dict[str, Any]:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr("activities.planning.plan", unreachable)
    assert call(links.plan_link_http, req=request("POST", "plan", spec_body(name))).status_code == 503

    def buggy(spec: Any) -> dict[str, Any]:
        raise KeyError("properties")

    monkeypatch.setattr("activities.planning.plan", buggy)
    response = call(links.plan_link_http, req=request("POST", "plan", spec_body(name)))
    assert response.status_code == 500
    assert answer(response)["error"] == {
        "code": "InternalError",
        "message": "kubelink failed unexpectedly; the function logs have the details",
        "details": [],
    }


# --- the blueprint -----------------------------------------------------------------------------------------


# --- DELETE /api/links/{name} ---------------------------------------------------------------------


def test_delete_starts_a_teardown_with_the_records_ownership_and_the_other_links_of_its_gateway(
    env: None, store: LinkStore, durable: StubServer, name: str
) -> None:
    ownership = {"created": ["/subscriptions/x/gatewaySubnet"], "adopted": {}}
    store.upsert_link(name, spec=spec_body(name), ownership=ownership)
    neighbour = f"{name}-b"
    store.upsert_link(neighbour, spec=spec_body(neighbour))  # the same gateway (examples/link.json's)
    instance = f"teardown-link-{name}"
    durable.on("GET", "/durabletask/instances/.*", Answer(404, None))
    durable.on("POST", f"/durabletask/orchestrators/teardown_link/{instance}", Answer(202, {"id": instance}))
    req = request("DELETE", f"links/{name}?deleteSharedResources=true", name=name)
    response = call(links.delete_link, req=req, client=binding(durable.url))
    assert response.status_code == 202, response.get_body()
    assert answer(response)["id"] == instance
    run = json.loads(json.loads(durable.requests[-1].body))
    assert run["spec"]["name"] == name and run["ownership"] == ownership
    assert run["deleteSharedResources"] is True
    others = run["sharedWith"]["gateway"]  # the store may hold other tests' links on the example's gateway too
    assert neighbour in others and name not in others
    record = store.get_link(name)
    assert record is not None and record.ready is not None and record.ready.reason == "TearingDown"


@pytest.mark.parametrize("running", ["link", "verify-link"])
def test_delete_is_409_while_a_run_of_the_link_is_active(
    env: None, store: LinkStore, durable: StubServer, name: str, running: str
) -> None:
    store.upsert_link(name, spec=spec_body(name))
    busy = f"{running}-{name}"
    durable.on("GET", "/durabletask/instances/.*", Answer(404, None))
    durable.on("GET", f"/durabletask/instances/{busy}", Answer(202, status_body(busy, "Running")))  # later rules win
    response = call(links.delete_link, req=request("DELETE", f"links/{name}", name=name), client=binding(durable.url))
    assert response.status_code == 409
    assert answer(response)["error"]["instanceId"] == f"{running}-{name}"
    assert not [p for p in paths(durable) if p.startswith("POST")]  # nothing started


def test_delete_of_an_unknown_link_is_404_and_a_bad_query_400(env: None, store: LinkStore, name: str) -> None:
    response = call(links.delete_link, req=request("DELETE", f"links/{name}", name=name), client=binding(closed_port()))
    assert response.status_code == 404
    store.upsert_link(name, spec=spec_body(name))
    req = request("DELETE", f"links/{name}?deleteSharedResources=yes", name=name)
    response = call(links.delete_link, req=req, client=binding(closed_port()))
    assert response.status_code == 400
    assert "deleteSharedResources" in answer(response)["error"]["message"]


def test_routes_and_auth_levels() -> None:
    import azure.durable_functions as df

    app = df.DFApp()
    app.register_functions(links.bp)
    routes = {}
    for function in app.get_functions():
        trigger = next(b for b in function.get_raw_bindings() if '"httpTrigger"' in b)
        decoded = json.loads(trigger)
        routes[function.get_function_name()] = (tuple(decoded["methods"]), decoded["route"], decoded["authLevel"])
    assert routes == {
        "start_link": (("POST",), "links", "FUNCTION"),
        "list_links": (("GET",), "links", "FUNCTION"),
        "get_link": (("GET",), "links/{name}", "FUNCTION"),
        "get_link_drift": (("GET",), "links/{name}/drift", "FUNCTION"),
        "verify_link_now": (("POST",), "links/{name}/verify", "FUNCTION"),
        "plan_link_http": (("POST",), "plan", "FUNCTION"),
        "delete_link": (("DELETE",), "links/{name}", "FUNCTION"),
    }


def test_importing_the_app_loads_no_sdk() -> None:
    """function_app is imported on every cold start: no azure.mgmt, kubernetes, tables SDK or pydantic with it."""
    probe = (
        "import sys, function_app, adapters.clients, adapters.store, adapters.settings, kubelink.validation;"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    heavy = [
        m
        for m in loaded
        if m.split(".")[0] in ("kubernetes", "pydantic")  # pydantic: the spec model loads on first use
        or m.startswith(("azure.mgmt", "azure.data.tables", "azure.identity"))
    ]
    assert heavy == []
