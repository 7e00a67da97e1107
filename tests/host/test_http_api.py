"""The Durable HTTP API on both prefixes, with the extension's status codes and bodies."""

from __future__ import annotations

import json

import requests

WEBHOOK = "/runtime/webhooks/durabletask"
RPC = "/durabletask"


def test_start_over_the_webhook_and_rpc_prefixes(start_host):
    host = start_host("timeouts")
    started = requests.post(f"{host.url}{WEBHOOK}/orchestrators/two_events/api-1", json={"raw": True})
    assert started.status_code == 202
    assert started.headers["Retry-After"] == "10"
    body = started.json()
    assert body["id"] == "api-1" and "rewindPostUri" not in body
    assert started.headers["Location"] == body["statusQueryGetUri"]
    status = requests.get(f"{host.url}{RPC}/instances/api-1").json()
    assert status["input"] == {"raw": True}  # a raw JSON body reaches the instance as an object
    assert status["name"] == "two_events"


def test_start_errors(start_host):
    host = start_host("timeouts")
    base = f"{host.url}{RPC}/orchestrators"
    unknown = requests.post(f"{base}/nope")
    assert unknown.status_code == 400
    assert unknown.json()["Message"] == "One or more of the arguments submitted is incorrect"
    assert unknown.json()["ExceptionMessage"].startswith(
        "The function 'nope' doesn't exist, is disabled, or is not an orchestrator function."
    )
    assert requests.post(f"{base}/two_events/@bad").status_code == 400
    bad_json = requests.post(f"{base}/two_events", data="{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["Message"] == "Invalid JSON content"
    assert requests.get(f"{base}/two_events").status_code == 404

    assert requests.post(f"{base}/two_events/dup").status_code == 202
    again = requests.post(f"{base}/two_events/dup")
    assert again.status_code == 500  # OrchestrationAlreadyExistsException (default dedupe of running ids)
    assert again.json()["ExceptionType"] == "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"


def test_status_list_terminate_purge(start_host):
    host = start_host("timeouts")
    api = f"{host.url}{RPC}/instances"
    for instance_id in ("a-1", "a-2", "b-1"):
        host.start_orchestration("two_events", instance_id=instance_id)
    host.wait_idle(5)
    assert requests.get(f"{api}/missing").status_code == 404
    assert requests.get(f"{api}/missing").content == b""

    everything = requests.get(f"{api}/")
    assert everything.status_code == 200
    assert sorted(i["instanceId"] for i in everything.json()) == ["a-1", "a-2", "b-1"]
    prefixed = requests.get(f"{api}/", params={"instanceIdPrefix": "a-", "runtimeStatus": "Running,Pending"})
    assert sorted(i["instanceId"] for i in prefixed.json()) == ["a-1", "a-2"]
    page = requests.get(f"{api}/", params={"top": "2"})
    assert len(page.json()) == 2 and page.headers["x-ms-continuation-token"]
    rest = requests.get(
        f"{api}/", params={"top": "2"}, headers={"x-ms-continuation-token": page.headers["x-ms-continuation-token"]}
    )
    assert len(rest.json()) == 1

    assert requests.post(f"{api}/missing/terminate").status_code == 404
    assert requests.post(f"{api}/a-1/terminate", params={"reason": "not needed"}).status_code == 202
    terminated = host.wait_for("a-1")
    assert terminated["runtimeStatus"] == "Terminated" and terminated["output"] == "not needed"
    assert requests.post(f"{api}/a-1/terminate").status_code == 410
    assert requests.post(f"{api}/a-1/raiseEvent/Go", json=1).status_code == 410

    assert requests.delete(f"{api}/a-1").json() == {"instancesDeleted": 1}
    assert requests.delete(f"{api}/a-1").status_code == 404
    assert requests.delete(f"{api}/").status_code == 400
    purged = requests.delete(f"{api}/", params={"createdTimeFrom": "2020-01-01T00:00:00Z"})
    assert purged.json() == {"instancesDeleted": 2}
    assert requests.delete(f"{api}/", params={"createdTimeFrom": "2020-01-01T00:00:00Z"}).status_code == 404


def test_client_binding_points_at_this_host(start_host):
    host = start_host("timeouts")
    binding = json.loads(host.client_binding())
    assert binding["taskHubName"] == "HostTests"
    assert binding["rpcBaseUrl"] == f"{host.url}/durabletask/"
    assert binding["baseUrl"] == f"{host.url}/runtime/webhooks/durabletask"
    assert binding["managementUrls"]["statusQueryGetUri"] == (
        f"{host.url}/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=HostTests&connection=Storage"
    )
    assert set(binding) >= {
        "creationUrls",
        "requiredQueryStringParameters",
        "httpBaseUrl",
        "maxGrpcMessageSizeInBytes",
        "grpcHttpClientTimeout",
    }


def test_admin_status_for_readiness(start_host):
    host = start_host("timeouts")
    response = requests.get(f"{host.url}/admin/host/status")
    assert response.status_code == 200 and response.json()["state"] == "Running"
