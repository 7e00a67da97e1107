"""Links that share a resource, written at once: no writer loses another's update.

Each test releases its writers together (a barrier) against the in-process sandbox, whose Microsoft.Web answers
as fast as it always does, and repeats the round so that a race window, if there is one, shows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from azure.mgmt.network.models import VirtualNetworkGateway

from activities.app_setting import ensure_app_setting
from activities.gateway import ensure_gateway, ensure_gateway_subnet, ensure_public_ip
from activities.regional import release_app_certificate
from activities.vnet_integration import ensure_app_vnet_connection
from adapters.clients import network_client, web_client
from local.sandbox.seed import DEFAULT_SEED
from tests.activities.helpers import Arm, root_certificate, settle
from tests.activities.specs import SUBSCRIPTION, payload

RACERS = 6
ROUNDS = 4
SEEDED = {"WEBSITE_NODE_DEFAULT_VERSION": "~20", "Greeting": "hello"}
OTHER_ROOT = root_certificate("ops-root")

Result = TypeVar("Result")


@pytest.fixture
def sandbox_seed(tmp_path: Path) -> Path:
    """The seeded world plus ``kubelink-demo-b``, a second Windows app on ``apps-plan``: two apps for one gateway."""
    seed = json.loads(DEFAULT_SEED.read_text())
    seed["sites"].append({**seed["sites"][0], "name": "kubelink-demo-b", "appSettings": {}})
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    return path


def at_once(activity: Callable[[dict[str, Any]], Result], payloads: list[dict[str, Any]]) -> list[Result]:
    """Run ``activity`` for every payload in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(payloads))

    def run(one: dict[str, Any]) -> Result:
        barrier.wait()
        return activity(one)

    with ThreadPoolExecutor(len(payloads)) as pool:
        return list(pool.map(run, payloads))


def app_settings() -> dict[str, str]:
    listed = web_client(SUBSCRIPTION).web_apps.list_application_settings("apps-rg", "kubelink-demo")
    return dict(listed.as_dict()["properties"])


def test_six_links_on_one_app_keep_every_setting(arm: Arm):
    for round_ in range(ROUNDS):
        wanted = {f"Race{i}Address": f"10.240.16.{10 * round_ + i + 4}" for i in range(RACERS)}
        payloads = [{**payload(app={"setting": name}), "value": value} for name, value in wanted.items()]
        results = at_once(ensure_app_setting, payloads)
        assert all(r["ok"] for r in results), results
        assert {r["result"] for r in results} == {"created" if round_ == 0 else "updated"}
        assert app_settings() == {**SEEDED, **wanted}, f"round {round_}: a concurrent link's setting was lost"


def gateway_certificates() -> dict[str, str]:
    gateway = network_client(SUBSCRIPTION).virtual_network_gateways.get("kube-rg", "kube-vnet-gw").as_dict()
    certificates = gateway["properties"]["vpnClientConfiguration"]["vpnClientRootCertificates"]
    return {c["name"]: c["properties"]["publicCertData"] for c in certificates}


def until_written(activity: Callable[[dict[str, Any]], dict[str, Any]], step: str) -> Callable[[dict[str, Any]], str]:
    """What the orchestrator does with a gateway writer: call it again once a busy gateway has settled; the
    result of ``step``."""

    def run(link: dict[str, Any]) -> str:
        while True:
            written = activity(link)
            assert written["ok"], written  # a write ARM refuses (409 AnotherOperationInProgress) fails here
            settle(link, "gateway")
            if written["result"] != "busy":
                return str(written[step])

    return run


def test_two_apps_adding_and_releasing_their_certificates_on_one_gateway_at_once(sandbox_seed: Path, arm: Arm):
    arm.inject(pathPattern="/virtualNetworkGateways/", lroSeconds=0.3)  # the waits shorter; the race window is not
    links = [payload(app={"name": app}) for app in ("kubelink-demo", "kubelink-demo-b")]
    for ensure, resource in ((ensure_gateway_subnet, "gatewaySubnet"), (ensure_public_ip, "publicIp")):
        assert ensure(links[0])["ok"]
        settle(links[0], resource)
    assert all(ensure_app_vnet_connection(link)["ok"] for link in links)
    assert until_written(ensure_gateway, "pointToSite")(links[0]) == "created"
    # kubelink-demo-b's connection trusts the same data: the release keeps it
    assert until_written(release_app_certificate, "result")(links[0]) == "unchanged"
    gateways = network_client(SUBSCRIPTION).virtual_network_gateways
    gateway = gateways.get("kube-rg", "kube-vnet-gw").as_dict()
    others = {"name": "ops-root", "properties": {"publicCertData": OTHER_ROOT}}
    gateway["properties"]["vpnClientConfiguration"]["vpnClientRootCertificates"] = [others]  # another team's
    body = VirtualNetworkGateway(gateway)
    gateways.begin_create_or_update("kube-rg", "kube-vnet-gw", body, polling_interval=0.1).result()

    # App Service issues one certificate per subscription and VNet (local/sandbox/README.md): both apps hold the same
    # data, so of two writers at once one adds it and the other finds it trusted; neither release removes it while
    # the other app's connection still trusts it (README, "What kubelink owns")
    assert sorted(at_once(until_written(ensure_gateway, "pointToSite"), links)) == ["unchanged", "updated"]
    names = set(gateway_certificates())
    assert (
        len(names) == 2
        and "ops-root" in names
        and names <= {"ops-root", "kubelink-kubelink-demo", "kubelink-kubelink-demo-b"}
    )
    assert at_once(until_written(release_app_certificate, "result"), links) == ["unchanged", "unchanged"]
    assert set(gateway_certificates()) == names
    refused = [r for r in arm.arm_requests() if r["method"] == "PUT" and r["status"] == 409]
    assert refused == [], "a writer waited for the lease and saw the gateway busy instead of sending a doomed PUT"


def test_a_writer_failing_inside_its_lease_holds_up_no_one_and_loses_nothing(arm: Arm):
    """One writer's PUT is throttled past the SDK's retries: it fails (transient), the lease goes with it."""
    arm.inject(method="PUT", pathPattern="/config/appsettings$", status=429, times=4, headers={"Retry-After": "0"})
    wanted = {f"Race{i}Address": f"10.240.16.{i + 4}" for i in range(RACERS)}
    payloads = [{**payload(app={"setting": name}), "value": value} for name, value in wanted.items()]
    results = at_once(ensure_app_setting, payloads)
    failed = [(link, r) for link, r in zip(payloads, results, strict=True) if not r["ok"]]
    assert [(r["error"]["code"], r["error"]["transient"]) for _, r in failed] == [("TooManyRequests", True)]
    ((retried, _),) = failed
    assert app_settings() == {**SEEDED, **{k: v for k, v in wanted.items() if k != retried["spec"]["app"]["setting"]}}
    assert ensure_app_setting(retried)["result"] == "created"  # what the orchestrator does with a transient error
    assert app_settings() == {**SEEDED, **wanted}
