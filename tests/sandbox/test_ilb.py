"""The ILB controller against a real kube-apiserver (local/cluster.py): internal Services get VNet IPs.

Skips when the apiserver binary is not built yet (``make test`` builds it); under CI it fails instead, like
the rest of the suite. The cluster is private to this module so no other controller touches its Services.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web import models as wm
from kubernetes import client, config

from local.cluster import Cluster, apiserver_built
from local.sandbox import SandboxServer, Settings, ilb

from . import builders
from .conftest import POLL
from .test_web import APP, APPS, integration_subnet

INTERNAL = {ilb.INTERNAL: "true"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not apiserver_built():
        message = "kube-apiserver is not built: run `make test` or `python -m local.cluster`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    work = tmp_path_factory.mktemp("ilb-cluster")
    with Cluster(work, work / "logs") as running:
        yield running


@pytest.fixture
def namespace(cluster: Cluster) -> str:
    name = f"ilb-{uuid.uuid4().hex[:8]}"
    core(cluster).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


@pytest.fixture
def sandbox(tmp_path: Path, cluster: Cluster, namespace: str) -> Iterator[SandboxServer]:
    settings = Settings(lro_seconds=0.2, gateway_seconds=1.0, ilb_delay_seconds=0.3)
    with SandboxServer(
        tmp_path / "sandbox", kubeconfig=cluster.kubeconfig, settings=settings, ilb_namespace=namespace
    ) as running:
        yield running


def core(cluster: Cluster) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(cluster.kubeconfig), persist_config=False))


def service(name: str, annotations: dict[str, str], lb_type: str = "LoadBalancer") -> Any:
    """A Service manifest (a dict: the client accepts it, though its annotations say V1Service)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"type": lb_type, "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def wait_for(check: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(POLL)
    raise AssertionError("condition not reached in time")


def ingress_ip(api: client.CoreV1Api, namespace: str, name: str) -> str | None:
    status = api.read_namespaced_service(name, namespace).status
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    return ingress[0].ip if ingress else None


def warnings(api: client.CoreV1Api, namespace: str, name: str) -> list[str]:
    events = api.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
    return [str(e.message) for e in events if e.type == "Warning" and e.reason == "SyncLoadBalancerFailed"]


def delete(api: client.CoreV1Api, namespace: str, name: str) -> None:
    """Delete a Service (raw answer: the 37.x client fails to parse the v1 Status the server returns)."""
    api.delete_namespaced_service(name, namespace, _preload_content=False)


def test_internal_service_gets_the_pinned_ip_in_the_annotated_subnet(
    cluster: Cluster, namespace: str, sandbox: SandboxServer
) -> None:
    api = core(cluster)
    api.create_namespaced_service(
        namespace, service("orders", {**INTERNAL, ilb.SUBNET: "ilb-subnet", ilb.IPV4: "10.240.16.25"})
    )
    assert wait_for(lambda: ingress_ip(api, namespace, "orders")) == "10.240.16.25"

    def reasons() -> set[str]:
        found = api.list_namespaced_event(namespace, field_selector="involvedObject.name=orders").items
        return {str(e.reason) for e in found}

    # the Ensured event is posted beside the status update, not before it: wait for it too
    assert wait_for(lambda: {"EnsuringLoadBalancer", "EnsuredLoadBalancer"} <= reasons())


def test_unpinned_services_get_the_first_free_addresses_after_azures_reserved_ones(
    cluster: Cluster, namespace: str, sandbox: SandboxServer
) -> None:
    api = core(cluster)
    api.create_namespaced_service(namespace, service("a", {**INTERNAL, ilb.SUBNET: "ilb-subnet"}))
    assert wait_for(lambda: ingress_ip(api, namespace, "a")) == "10.240.16.4"
    api.create_namespaced_service(namespace, service("b", {**INTERNAL, ilb.SUBNET: "ilb-subnet"}))
    assert wait_for(lambda: ingress_ip(api, namespace, "b")) == "10.240.16.5"


def test_default_subnet_is_the_clusters_after_node_and_pod_addresses(
    cluster: Cluster, namespace: str, sandbox: SandboxServer
) -> None:
    api = core(cluster)
    api.create_namespaced_service(namespace, service("plain", INTERNAL))
    # 3 nodes x (30 pods + 1) addresses from 10.240.0.4 are Azure CNI's; the first ILB address comes after.
    assert wait_for(lambda: ingress_ip(api, namespace, "plain")) == "10.240.0.97"


def test_public_and_cluster_ip_services_are_left_alone(
    cluster: Cluster, namespace: str, sandbox: SandboxServer
) -> None:
    api = core(cluster)
    api.create_namespaced_service(namespace, service("public", {}))
    api.create_namespaced_service(namespace, service("inside", INTERNAL, lb_type="ClusterIP"))
    api.create_namespaced_service(namespace, service("marker", {**INTERNAL, ilb.SUBNET: "ilb-subnet"}))
    wait_for(lambda: ingress_ip(api, namespace, "marker"))  # the controller has seen all three by now
    assert ingress_ip(api, namespace, "public") is None
    assert ingress_ip(api, namespace, "inside") is None


def test_pinned_ip_outside_the_subnet_stays_pending_with_a_warning(
    cluster: Cluster, namespace: str, sandbox: SandboxServer
) -> None:
    api = core(cluster)
    api.create_namespaced_service(
        namespace, service("wrong", {**INTERNAL, ilb.SUBNET: "ilb-subnet", ilb.IPV4: "10.240.0.50"})
    )
    message = wait_for(lambda: warnings(api, namespace, "wrong"))[0]
    assert "10.240.0.50" in message and "ilb-subnet" in message
    assert ingress_ip(api, namespace, "wrong") is None


def test_unknown_subnet_stays_pending_with_a_warning(cluster: Cluster, namespace: str, sandbox: SandboxServer) -> None:
    api = core(cluster)
    api.create_namespaced_service(namespace, service("lost", {**INTERNAL, ilb.SUBNET: "no-such-subnet"}))
    assert "no-such-subnet" in wait_for(lambda: warnings(api, namespace, "lost"))[0]


def test_a_taken_ip_is_given_to_the_waiting_service_once_released(
    cluster: Cluster, namespace: str, sandbox: SandboxServer
) -> None:
    api = core(cluster)
    pinned = {**INTERNAL, ilb.SUBNET: "ilb-subnet", ilb.IPV4: "10.240.16.25"}
    api.create_namespaced_service(namespace, service("first", pinned))
    wait_for(lambda: ingress_ip(api, namespace, "first"))
    api.create_namespaced_service(namespace, service("second", pinned))
    assert "already in use" in wait_for(lambda: warnings(api, namespace, "second"))[0]
    delete(api, namespace, "first")
    assert wait_for(lambda: ingress_ip(api, namespace, "second")) == "10.240.16.25"
    allocations = sandbox.world.extra["ilb"]["allocations"]
    assert set(allocations) == {f"{namespace}/second"}


def test_the_probe_reaches_a_service_the_controller_published(
    cluster: Cluster, namespace: str, sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient
) -> None:
    """The app answers once the controller has published the Service, and stops when it is deleted."""
    api = core(cluster)
    api.create_namespaced_service(
        namespace, service("orders", {**INTERNAL, ilb.SUBNET: "ilb-subnet", ilb.IPV4: "10.240.16.25"})
    )
    wait_for(lambda: ingress_ip(api, namespace, "orders"))
    web.web_apps.update_application_settings(
        APPS, APP, wm.StringDictionary({"properties": {"PrivateAddress": "10.240.16.25"}})
    )
    subnet_id = integration_subnet(net)
    web.web_apps.update(APPS, APP, wm.SitePatchResource({"properties": {"virtualNetworkSubnetId": subnet_id}}))
    url = f"{sandbox.site_urls[APP]}/api/privatestuff"
    answer = requests.get(url, verify=str(sandbox.ca_bundle), timeout=5)
    assert answer.status_code == 200, answer.headers.get("X-Sandbox-Reason")
    assert answer.json()["service"] == f"{namespace}/orders"
    delete(api, namespace, "orders")
    wait_for(lambda: requests.get(url, verify=str(sandbox.ca_bundle), timeout=5).status_code == 500)


def test_a_labelled_namespace_belongs_to_the_managed_cluster_and_gets_its_vnets_addresses(
    cluster: Cluster, namespace: str, sandbox: SandboxServer
) -> None:
    """The one apiserver plays kube-aks-managed too: its Services get IPs in aks-vnet-30511229 (README)."""
    api = core(cluster)
    api.patch_namespace(namespace, {"metadata": {"labels": {ilb.CLUSTER_LABEL: "kube-aks-managed"}}})
    api.create_namespaced_service(namespace, service("managed", INTERNAL))
    assert wait_for(lambda: ingress_ip(api, namespace, "managed")) == "10.224.0.97"
    allocation = sandbox.world.extra["ilb"]["allocations"][f"{namespace}/managed"]
    assert "/aks-vnet-30511229/subnets/aks-subnet" in allocation["subnetId"]


def test_the_app_reaches_a_service_in_the_clusters_vnet_across_a_connected_peering(
    cluster: Cluster, namespace: str, sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient
) -> None:
    """kubelink-demo integrated into apps-vnet answers only once apps-vnet and kube-vnet are peered both ways."""
    from azure.mgmt.network import models as nm

    api = core(cluster)
    api.create_namespaced_service(
        namespace, service("orders", {**INTERNAL, ilb.SUBNET: "ilb-subnet", ilb.IPV4: "10.240.16.25"})
    )
    wait_for(lambda: ingress_ip(api, namespace, "orders"))
    body = builders.subnet("10.50.1.0/26", "Microsoft.Web/serverFarms")
    subnet = net.subnets.begin_create_or_update(APPS, "apps-vnet", "apps", body, polling_interval=POLL).result()
    web.web_apps.update_application_settings(
        APPS, APP, wm.StringDictionary({"properties": {"PrivateAddress": "10.240.16.25"}})
    )
    web.web_apps.update(APPS, APP, wm.SitePatchResource({"properties": {"virtualNetworkSubnetId": subnet.id}}))
    url = f"{sandbox.site_urls[APP]}/api/privatestuff"
    before = requests.get(url, verify=str(sandbox.ca_bundle), timeout=5)
    assert before.status_code == 500 and "outside the address space" in before.headers["X-Sandbox-Reason"]
    vnets = {
        name: net.virtual_networks.get(rg, name).id for rg, name in ((APPS, "apps-vnet"), ("kube-rg", "kube-vnet"))
    }
    for (rg, name), remote in (((APPS, "apps-vnet"), "kube-vnet"), (("kube-rg", "kube-vnet"), "apps-vnet")):
        peering = nm.VirtualNetworkPeering(
            {"properties": {"allowVirtualNetworkAccess": True, "remoteVirtualNetwork": {"id": vnets[remote]}}}
        )
        net.virtual_network_peerings.begin_create_or_update(
            rg, name, f"to-{remote}", peering, polling_interval=POLL
        ).result()
    answer = requests.get(url, verify=str(sandbox.ca_bundle), timeout=5)
    assert answer.status_code == 200, answer.headers.get("X-Sandbox-Reason")
    assert answer.json()["service"] == f"{namespace}/orders"


def test_the_cloud_makes_a_private_link_service_and_the_app_reaches_the_service_through_an_endpoint(
    cluster: Cluster, namespace: str, sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient
) -> None:
    """kube-aks-managed's Service with azure-pls-* annotations: a PLS in MC_…, a private endpoint in apps-vnet,
    Pending until its owner approves, then app → endpoint → PLS → ILB → pods."""
    from azure.mgmt.network import models as nm

    from local.sandbox import privatelink

    mc = "MC_kube-rg_kube-aks-managed_westeurope"
    api = core(cluster)
    api.patch_namespace(namespace, {"metadata": {"labels": {ilb.CLUSTER_LABEL: "kube-aks-managed"}}})
    annotations = {**INTERNAL, privatelink.CREATE: "true", privatelink.NAME_ANNOTATION: "orders-pls"}
    api.create_namespaced_service(namespace, service("orders", annotations))
    wait_for(lambda: ingress_ip(api, namespace, "orders"))
    pls = wait_for(lambda: [p for p in net.private_link_services.list(mc) if p.name == "orders-pls"])[0]
    assert pls.ip_configurations[0].subnet.id.endswith("/aks-vnet-30511229/subnets/aks-subnet")
    assert pls.auto_approval.subscriptions == []
    pe_subnet = net.subnets.begin_create_or_update(
        APPS, "apps-vnet", "endpoints", builders.subnet("10.50.2.0/27"), polling_interval=POLL
    ).result()
    body = nm.PrivateEndpoint(
        {
            "location": "westeurope",
            "properties": {
                "subnet": {"id": pe_subnet.id},
                "privateLinkServiceConnections": [{"name": "kubelink", "properties": {"privateLinkServiceId": pls.id}}],
            },
        }
    )
    endpoint = net.private_endpoints.begin_create_or_update(APPS, "orders-pe", body, polling_interval=POLL).result()
    connection = endpoint.private_link_service_connections[0]
    assert connection.private_link_service_connection_state.status == "Pending"
    nic = net.network_interfaces.get(APPS, endpoint.network_interfaces[0].id.rsplit("/", 1)[-1])
    ip = nic.ip_configurations[0].private_ip_address
    assert ip == "10.50.2.4"
    app_subnet = net.subnets.begin_create_or_update(
        APPS, "apps-vnet", "apps", builders.subnet("10.50.1.0/26", "Microsoft.Web/serverFarms"), polling_interval=POLL
    ).result()
    web.web_apps.update_application_settings(
        APPS, "kubelink-linux", wm.StringDictionary({"properties": {"PrivateAddress": ip}})
    )
    web.web_apps.update(
        APPS, "kubelink-linux", wm.SitePatchResource({"properties": {"virtualNetworkSubnetId": app_subnet.id}})
    )
    url = f"{sandbox.site_urls['kubelink-linux']}/api/privatestuff"
    pending = requests.get(url, verify=str(sandbox.ca_bundle), timeout=5)
    assert pending.status_code == 500 and "Pending" in pending.headers["X-Sandbox-Reason"]
    pls = net.private_link_services.get(mc, "orders-pls")
    (pec,) = pls.private_endpoint_connections
    approval = nm.PrivateEndpointConnection(
        {"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}}
    )
    net.private_link_services.update_private_endpoint_connection(mc, "orders-pls", pec.name, approval)
    answer = requests.get(url, verify=str(sandbox.ca_bundle), timeout=5)
    assert answer.status_code == 200, answer.headers.get("X-Sandbox-Reason")
    assert answer.json()["service"] == f"{namespace}/orders" and "Private Link" in answer.json()["path"]
    approved = net.private_endpoints.get(APPS, "orders-pe").private_link_service_connections[0]
    assert approved.private_link_service_connection_state.status == "Approved"
