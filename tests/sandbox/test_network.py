"""Microsoft.Network through azure-mgmt-network 33.x: shapes, LRO protocol, and the 400s Azure gives."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm

from local.sandbox import SandboxServer
from local.sandbox.tls import app_certificate

from . import builders
from .builders import GW, PIP, RG, VNET
from .conftest import POLL, SUB, Control, arm, code_of, rid

API = {"api-version": "2026-03-01"}
SUBNETS = rid(RG, "Microsoft.Network", "virtualNetworks", VNET, "subnets")


def poll_until(sandbox: SandboxServer, url: str, status: str, timeout: float = 10) -> list[str]:
    """Follow an Azure-AsyncOperation URL; returns every status seen."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        seen.append(arm(sandbox, "GET", url.replace(sandbox.arm_url, "")).json()["status"])
        if seen[-1] == status:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"operation never reached {status}: {seen}")


# --- virtual networks and subnets ------------------------------------------------------------------------


def test_seeded_vnet_has_cluster_and_ilb_subnets_but_no_gateway_subnet(net: NetworkManagementClient) -> None:
    vnet = net.virtual_networks.get(RG, VNET)
    assert vnet.address_space.address_prefixes == ["10.240.0.0/16"]
    assert {s.name: s.address_prefix for s in vnet.subnets} == {
        "aks-subnet": "10.240.0.0/20",
        "ilb-subnet": "10.240.16.0/24",
    }
    with pytest.raises(ResourceNotFoundError) as caught:
        net.subnets.get(RG, VNET, "GatewaySubnet")
    assert code_of(caught) == "NotFound"


def test_subnet_put_is_201_updating_with_async_operation_then_succeeded(
    sandbox: SandboxServer, control: Control
) -> None:
    control.fault(pathPattern="/subnets/GatewaySubnet$", lroSeconds=1)  # long enough to see InProgress on a busy box
    response = arm(
        sandbox,
        "PUT",
        f"{SUBNETS}/GatewaySubnet",
        params=API,
        json={"properties": {"addressPrefix": "10.240.255.0/27"}},
    )
    assert response.status_code == 201
    assert response.json()["properties"]["provisioningState"] == "Updating"
    status_url = response.headers["Azure-AsyncOperation"]
    assert status_url.startswith(
        f"{sandbox.arm_url}/subscriptions/{SUB}/providers/Microsoft.Network/locations/westeurope/operations/"
    )
    assert "api-version=2026-03-01" in status_url
    assert "Location" not in response.headers
    assert poll_until(sandbox, status_url, "Succeeded")[0] == "InProgress"
    got = arm(sandbox, "GET", f"{SUBNETS}/GatewaySubnet", params=API).json()
    assert got["properties"]["provisioningState"] == "Succeeded"
    again = arm(
        sandbox,
        "PUT",
        f"{SUBNETS}/GatewaySubnet",
        params=API,
        json={"properties": {"addressPrefix": "10.240.255.0/27"}},
    )
    assert again.status_code == 200


def test_delegated_subnet_round_trips_and_a_put_replaces_the_whole_subnet(net: NetworkManagementClient) -> None:
    created = net.subnets.begin_create_or_update(
        RG,
        VNET,
        "apps-subnet",
        builders.subnet("10.240.254.0/26", "Microsoft.Web/serverFarms"),
        polling_interval=POLL,
    ).result()
    assert created.provisioning_state == "Succeeded"
    assert [d.service_name for d in created.delegations] == ["Microsoft.Web/serverFarms"]
    assert created.delegations[0].id.endswith("/subnets/apps-subnet/delegations/delegation")
    assert "apps-subnet" in [s.name for s in net.subnets.list(RG, VNET)]
    replaced = net.subnets.begin_create_or_update(
        RG, VNET, "apps-subnet", builders.subnet("10.240.254.0/26"), polling_interval=POLL
    ).result()
    assert replaced.delegations == []


def test_subnet_delete_is_202_then_gone(sandbox: SandboxServer, net: NetworkManagementClient) -> None:
    builders.gateway_subnet(net)
    response = arm(sandbox, "DELETE", f"{SUBNETS}/GatewaySubnet", params=API)
    assert response.status_code == 202
    assert "Azure-AsyncOperation" in response.headers and "Location" in response.headers
    assert int(response.headers["Retry-After"]) >= 1
    poll_until(sandbox, response.headers["Azure-AsyncOperation"], "Succeeded")
    with pytest.raises(ResourceNotFoundError):
        net.subnets.get(RG, VNET, "GatewaySubnet")
    assert arm(sandbox, "DELETE", f"{SUBNETS}/GatewaySubnet", params=API).status_code == 204


@pytest.mark.parametrize(
    ("name", "prefix", "code"),
    [
        ("GatewaySubnet", "10.241.0.0/27", "NetcfgSubnetRangeOutsideVnet"),
        ("GatewaySubnet", "10.240.8.0/27", "NetcfgSubnetRangesOverlap"),
        ("GatewaySubnet", "10.240.255.5/27", "InvalidCIDRNotation"),
        ("GatewaySubnet", "not-a-cidr", "InvalidAddressPrefixFormat"),
        ("-bad-name", "10.240.255.0/27", "InvalidResourceName"),
    ],
)
def test_subnet_rules_are_400_with_azure_codes(net: NetworkManagementClient, name: str, prefix: str, code: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        net.subnets.begin_create_or_update(RG, VNET, name, builders.subnet(prefix), polling_interval=POLL)
    assert caught.value.status_code == 400
    assert code_of(caught) == code


def test_subnet_of_missing_vnet_is_parent_resource_not_found(net: NetworkManagementClient) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        net.subnets.begin_create_or_update(RG, "no-vnet", "GatewaySubnet", builders.subnet("10.0.0.0/27"))
    assert code_of(caught) == "ParentResourceNotFound"


def test_vnet_put_creates_and_its_subnet_list_is_authoritative(net: NetworkManagementClient) -> None:
    def vnet(*subnets: str) -> nm.VirtualNetwork:
        return nm.VirtualNetwork(
            {
                "location": "westeurope",
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.50.0.0/16"]},
                    "subnets": [
                        {"name": n, "properties": {"addressPrefix": f"10.50.{i}.0/24"}} for i, n in enumerate(subnets)
                    ],
                },
            }
        )

    body = vnet("a", "b")
    created = net.virtual_networks.begin_create_or_update(
        "spare-rg", "spare-vnet", body, polling_interval=POLL
    ).result()
    assert created.provisioning_state == "Succeeded"
    assert sorted(s.name for s in created.subnets) == ["a", "b"]
    assert all(s.provisioning_state == "Succeeded" for s in created.subnets)
    body = vnet("a")
    updated = net.virtual_networks.begin_create_or_update(
        "spare-rg", "spare-vnet", body, polling_interval=POLL
    ).result()
    assert [s.name for s in updated.subnets] == ["a"]


def test_vnet_put_cannot_drop_a_subnet_in_use(net: NetworkManagementClient) -> None:
    builders.gateway(net)
    vnet = net.virtual_networks.get(RG, VNET)
    vnet.subnets = [s for s in vnet.subnets if s.name != "GatewaySubnet"]
    with pytest.raises(HttpResponseError) as caught:
        net.virtual_networks.begin_create_or_update(RG, VNET, vnet, polling_interval=POLL)
    assert code_of(caught) == "InUseSubnetCannotBeDeleted"


def test_vnet_and_pip_creates_announce_async_notification(sandbox: SandboxServer) -> None:
    vnet = arm(
        sandbox,
        "PUT",
        rid("spare-rg", "Microsoft.Network", "virtualNetworks", "v"),
        params=API,
        json={"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}},
    )
    assert (vnet.status_code, vnet.headers["Azure-AsyncNotification"]) == (201, "Enabled")
    no_location = arm(
        sandbox, "PUT", rid("spare-rg", "Microsoft.Network", "publicIPAddresses", "p"), params=API, json={}
    )
    assert (no_location.status_code, no_location.json()["error"]["code"]) == (400, "LocationRequired")


# --- public IP addresses ---------------------------------------------------------------------------------


def test_standard_public_ip_is_static_with_an_address(net: NetworkManagementClient) -> None:
    pip = builders.public_ip(net)
    assert pip.sku is not None
    assert (pip.sku.name, pip.public_ip_allocation_method, pip.provisioning_state) == (
        "Standard",
        "Static",
        "Succeeded",
    )
    assert pip.ip_address
    assert net.public_ip_addresses.get(RG, PIP).ip_address == pip.ip_address


def test_standard_public_ip_must_be_static(net: NetworkManagementClient) -> None:
    body = nm.PublicIPAddress(
        {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Dynamic"}}
    )
    with pytest.raises(HttpResponseError) as caught:
        net.public_ip_addresses.begin_create_or_update(RG, PIP, body)
    assert code_of(caught) == "StandardSkuPublicIPAddressesMustBeStatic"


def test_public_ip_delete(net: NetworkManagementClient) -> None:
    builders.public_ip(net)
    net.public_ip_addresses.begin_delete(RG, PIP, polling_interval=POLL).result()
    with pytest.raises(ResourceNotFoundError) as caught:
        net.public_ip_addresses.get(RG, PIP)
    assert code_of(caught) == "ResourceNotFound"


# --- gateways --------------------------------------------------------------------------------------------


def test_gateway_create_is_an_updating_lro_then_succeeded_with_bgp(net: NetworkManagementClient) -> None:
    subnet = builders.gateway_subnet(net)
    pip = builders.public_ip(net)
    poller = net.virtual_network_gateways.begin_create_or_update(
        RG, GW, builders.gateway_body(subnet.id, pip.id), polling_interval=POLL
    )
    assert poller.status() == "InProgress"
    during = net.virtual_network_gateways.get(RG, GW)
    assert during.provisioning_state == "Updating"
    gw = poller.result()
    assert gw.provisioning_state == "Succeeded"
    assert (gw.sku.name, gw.sku.capacity, gw.gateway_type, gw.vpn_type) == ("VpnGw1AZ", 2, "Vpn", "RouteBased")
    assert gw.vpn_client_configuration.vpn_client_address_pool.address_prefixes == [builders.POOL]
    assert gw.vpn_client_configuration.vpn_client_protocols == ["SSTP"]
    assert gw.bgp_settings.bgp_peering_address == "10.240.255.30"
    assert gw.ip_configurations[0].subnet.id.lower() == str(subnet.id).lower()
    assert net.subnets.get(RG, VNET, "GatewaySubnet").ip_configurations[0].id == gw.ip_configurations[0].id
    assert net.public_ip_addresses.get(RG, PIP).ip_configuration.id == gw.ip_configurations[0].id


def test_gateway_write_while_its_operation_runs_is_409(net: NetworkManagementClient) -> None:
    subnet = builders.gateway_subnet(net)
    pip = builders.public_ip(net)
    body = builders.gateway_body(subnet.id, pip.id)
    net.virtual_network_gateways.begin_create_or_update(RG, GW, body, polling=False)
    with pytest.raises(ResourceExistsError) as caught:
        net.virtual_network_gateways.begin_create_or_update(RG, GW, body, polling=False)
    assert code_of(caught) == "AnotherOperationInProgress"
    assert "/operations/" in str(caught.value.message)
    with pytest.raises(ResourceExistsError):
        net.virtual_network_gateways.begin_delete(RG, GW, polling=False)


def test_root_certificate_is_added_by_read_modify_write(net: NetworkManagementClient) -> None:
    builders.gateway(net)
    cert = app_certificate("kubelink-demo", VNET)
    gw = net.virtual_network_gateways.get(RG, GW)
    gw.vpn_client_configuration.vpn_client_root_certificates.append(
        builders.root_certificate("AppServiceCertificate.cer", cert.blob)
    )
    poller = net.virtual_network_gateways.begin_create_or_update(RG, GW, gw, polling_interval=POLL)
    assert net.virtual_network_gateways.get(RG, GW).provisioning_state == "Updating"
    updated = poller.result()
    roots = updated.vpn_client_configuration.vpn_client_root_certificates
    assert [(r.name, r.public_cert_data, r.provisioning_state) for r in roots] == [
        ("AppServiceCertificate.cer", cert.blob, "Succeeded")
    ]
    assert roots[0].id.endswith(f"/virtualNetworkGateways/{GW}/vpnClientRootCertificates/AppServiceCertificate.cer")


def _gateway_error(net: NetworkManagementClient, **kwargs: Any) -> str:
    subnet_id = kwargs.pop("subnet_id", None) or builders.gateway_subnet(net).id
    pip_id = kwargs.pop("pip_id", None) or builders.public_ip(net, sku=kwargs.pop("pip_sku", "Standard")).id
    with pytest.raises(HttpResponseError) as caught:
        net.virtual_network_gateways.begin_create_or_update(RG, GW, builders.gateway_body(subnet_id, pip_id, **kwargs))
    assert caught.value.status_code == 400
    return code_of(caught)


def test_basic_public_ip_is_refused_on_a_vpngw_gateway(net: NetworkManagementClient) -> None:
    assert _gateway_error(net, pip_sku="Basic") == "PublicIpWithBasicSkuNotAllowedOnVPNGateways"


@pytest.mark.parametrize("sku", ["VpnGw1", "VpnGw5", "Standard", "HighPerformance", "NoSuchSku"])
def test_non_az_and_unknown_skus_cannot_be_created(net: NetworkManagementClient, sku: str) -> None:
    assert _gateway_error(net, sku=sku) == "InvalidGatewaySkuSpecifiedForGatewayDeploymentType"


def test_client_pool_overlapping_the_vnet_is_refused(net: NetworkManagementClient) -> None:
    assert _gateway_error(net, pool="10.240.128.0/24") == "VpnClientAddressPoolOverlapsWithVnetAddressSpace"


def test_sstp_and_openvpn_together_are_refused(net: NetworkManagementClient) -> None:
    assert _gateway_error(net, protocols=("SSTP", "OpenVPN")) == "VpnClientProtocolsSstpAndOpenVpnCannotCoexist"


def test_root_certificate_data_must_be_a_certificate(net: NetworkManagementClient) -> None:
    junk = base64.b64encode(b"not a certificate").decode()
    assert _gateway_error(net, root_certs={"x.cer": junk}) == "InvalidVpnClientRootCertificate"


def test_gateway_needs_the_gateway_subnet(net: NetworkManagementClient) -> None:
    aks_subnet = net.subnets.get(RG, VNET, "aks-subnet").id
    assert _gateway_error(net, subnet_id=aks_subnet) == "InvalidGatewaySubnet"
    missing = f"{SUBNETS}/GatewaySubnet"
    with pytest.raises(HttpResponseError) as caught:
        net.virtual_network_gateways.begin_create_or_update(
            RG, GW, builders.gateway_body(missing, builders.public_ip(net).id)
        )
    assert code_of(caught) == "InvalidResourceReference"


def test_gateway_subnet_smaller_than_29_is_refused(net: NetworkManagementClient) -> None:
    small = builders.gateway_subnet(net, "10.240.255.0/30").id
    assert _gateway_error(net, subnet_id=small) == "GatewaySubnetIsTooSmall"


def test_resources_in_use_by_the_gateway_cannot_be_deleted(net: NetworkManagementClient) -> None:
    builders.gateway(net)
    with pytest.raises(HttpResponseError) as caught:
        net.public_ip_addresses.begin_delete(RG, PIP)
    assert code_of(caught) == "PublicIPAddressCannotBeDeleted"
    with pytest.raises(HttpResponseError) as caught:
        net.subnets.begin_delete(RG, VNET, "GatewaySubnet")
    assert code_of(caught) == "InUseSubnetCannotBeDeleted"
    with pytest.raises(HttpResponseError) as caught:
        net.subnets.begin_create_or_update(RG, VNET, "GatewaySubnet", builders.subnet("10.240.255.0/26"))
    assert code_of(caught) == "InUseSubnetCannotBeUpdated"


def test_gateway_delete_is_202_deleting_then_gone(sandbox: SandboxServer, net: NetworkManagementClient) -> None:
    builders.gateway(net)
    response = arm(sandbox, "DELETE", rid(RG, "Microsoft.Network", "virtualNetworkGateways", GW), params=API)
    assert response.status_code == 202
    assert {"Azure-AsyncOperation", "Location", "Retry-After"} <= set(response.headers)
    assert net.virtual_network_gateways.get(RG, GW).provisioning_state == "Deleting"
    poll_until(sandbox, response.headers["Azure-AsyncOperation"], "Succeeded")
    with pytest.raises(ResourceNotFoundError):
        net.virtual_network_gateways.get(RG, GW)
    net.public_ip_addresses.begin_delete(RG, PIP, polling_interval=POLL).result()


def test_generate_vpn_client_package_is_a_202_lro_returning_a_url(
    sandbox: SandboxServer, net: NetworkManagementClient
) -> None:
    builders.gateway(net)
    path = rid(RG, "Microsoft.Network", "virtualNetworkGateways", GW, "generatevpnclientpackage")
    raw = arm(sandbox, "POST", path, params=API, json={"processorArchitecture": "Amd64"})
    assert raw.status_code == 202
    assert {"Azure-AsyncOperation", "Location", "Retry-After"} <= set(raw.headers)
    assert "/operationResults/" in raw.headers["Location"]
    url = net.virtual_network_gateways.begin_generatevpnclientpackage(
        RG, GW, nm.VpnClientParameters({"processorArchitecture": "Amd64"}), polling_interval=POLL
    ).result()
    assert isinstance(url, str) and url.startswith("https://") and ".zip?" in url


def test_package_needs_a_point_to_site_pool(net: NetworkManagementClient) -> None:
    builders.gateway(net, pool=None)
    with pytest.raises(HttpResponseError) as caught:
        net.virtual_network_gateways.begin_generatevpnclientpackage(RG, GW, nm.VpnClientParameters({}))
    assert code_of(caught) == "VpnClientConfigurationNotSet"


def test_vpn_client_connection_health_is_a_location_lro(
    sandbox: SandboxServer, net: NetworkManagementClient, control: Control
) -> None:
    builders.gateway(net)
    control.fault(pathPattern="/getvpnclientconnectionhealth$", lroSeconds=1)
    path = rid(RG, "Microsoft.Network", "virtualNetworkGateways", GW, "getvpnclientconnectionhealth")
    raw = arm(sandbox, "POST", path, params=API)
    assert raw.status_code == 202
    assert "Location" in raw.headers and "Azure-AsyncOperation" not in raw.headers
    pending = arm(sandbox, "GET", raw.headers["Location"].replace(sandbox.arm_url, ""))
    assert pending.status_code == 202
    health = net.virtual_network_gateways.begin_get_vpnclient_connection_health(RG, GW, polling_interval=POLL).result()
    assert health.value == []
