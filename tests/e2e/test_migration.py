"""Issue 6 end to end, moving a link off the gateway path: the same body re-submitted with ``integration:
regional`` connects the app regionally, removes its gateway-required connection and kubelink's root certificate
for it (everyone else's stays), keeps the probe answering, and a second run writes nothing. One world for the
module; the tests run in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import VirtualNetworkGateway

from tests.activities.helpers import root_certificate
from tests.e2e.conftest import Kubelink, example
from tests.e2e.replay import assert_replays_deterministically

REGIONAL = example(integration="regional")
REGIONAL["app"] = {**REGIONAL["app"], "subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"}}
APP_CERT = "kubelink-kubelink-demo"
PROBE = "/api/privatestuff"


def gateways(kubelink: Kubelink) -> Any:
    return kubelink.sdk(NetworkManagementClient).virtual_network_gateways


def root_names(kubelink: Kubelink) -> list[str]:
    gateway = gateways(kubelink).get("kube-rg", "kube-vnet-gw").as_dict()
    return [c["name"] for c in gateway["properties"]["vpnClientConfiguration"]["vpnClientRootCertificates"]]


def test_the_gateway_link_works_and_shares_its_gateway(kubelink: Kubelink) -> None:
    status, _ = kubelink.provision(example())
    assert status["runtimeStatus"] == "Completed", status
    gateway = gateways(kubelink).get("kube-rg", "kube-vnet-gw").as_dict()  # someone else trusts their root too
    gateway["properties"]["vpnClientConfiguration"]["vpnClientRootCertificates"].append(
        {"name": "ops-root", "properties": {"publicCertData": root_certificate("ops")}}
    )
    poller = gateways(kubelink).begin_create_or_update(
        "kube-rg", "kube-vnet-gw", VirtualNetworkGateway(gateway), polling_interval=0.2
    )
    poller.result()
    assert root_names(kubelink) == [APP_CERT, "ops-root"]
    assert kubelink.probe("kubelink-demo", PROBE).status_code == 200


def test_the_plan_shows_the_move(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    changes = {(c["step"], c["resource"].rsplit("/", 1)[-1]): c for c in kubelink.plan(REGIONAL)}
    connection = changes[("vnetIntegration", "virtualNetwork")]
    assert connection["action"] == "create"
    assert {f["field"]: f["actual"] for f in connection["fields"]}["virtualNetworkConnections[kube-vnet]"] == (
        "gateway-required"
    )
    release = changes[("pointToSite", "kube-vnet-gw")]
    assert release["action"] == "update"
    assert [f["field"].rsplit(".", 1)[-1] for f in release["fields"]] == [f"vpnClientRootCertificates[{APP_CERT}]"]
    assert kubelink.arm_writes() == []


def test_re_submitting_as_regional_moves_the_app_with_the_shortest_outage(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    status, seen = kubelink.provision(REGIONAL)
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["steps"] == {
        "service": "unchanged",
        "gateway": "unchanged",
        "pointToSite": "updated",
        "vnetIntegration": "created",
        "appSetting": "unchanged",
    }
    assert seen[-1]["steps"] == dict.fromkeys(status["output"]["steps"], "done")
    requests = [(r["method"], r["path"].rsplit("/", 2)[-2:]) for r in kubelink.arm_requests() if r["method"] != "GET"]
    writes = [r for r in requests if r[1][-1] != "list"]
    assert writes == [
        ("PUT", ["subnets", "app-subnet"]),  # prepared while the app still works through the gateway
        ("DELETE", ["virtualNetworkConnections", "kube-vnet"]),  # Azure connects regionally only without it
        ("PUT", ["networkConfig", "virtualNetwork"]),
        ("PUT", ["virtualNetworkGateways", "kube-vnet-gw"]),  # last: the app no longer needs the gateway
    ]
    logged = kubelink.arm_requests()
    cut = next(i for i, r in enumerate(logged) if r["method"] == "DELETE")
    assert logged[cut + 1]["method"] == "PUT" and logged[cut + 1]["path"].endswith("/networkConfig/virtualNetwork")


def test_the_app_answers_regionally_and_the_gateway_keeps_only_others_certificates(kubelink: Kubelink) -> None:
    assert kubelink.probe("kubelink-demo", PROBE).status_code == 200
    listed = kubelink.web().web_apps.list_vnet_connections("apps-rg", "kubelink-demo")
    assert [c.as_dict()["properties"]["isSwift"] for c in listed] == [True]
    assert root_names(kubelink) == ["ops-root"]
    conditions = {c["type"]: c for c in kubelink.link("orders-api")["conditions"]}
    assert conditions["Ready"]["status"] == "True" and conditions["Retirement"]["status"] == "False"


def test_the_move_replays_deterministically_and_a_second_run_writes_nothing(kubelink: Kubelink) -> None:
    assert assert_replays_deterministically(Path(kubelink.world.host.work), "link-orders-api") >= 8
    kubelink.reset_requests()
    status, _ = kubelink.provision(REGIONAL)
    assert status["runtimeStatus"] == "Completed", status
    assert set(status["output"]["steps"].values()) == {"unchanged"}
    assert kubelink.arm_writes() == []
