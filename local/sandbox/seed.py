"""Build the world from a seed file (``seed.json``): the subscription as the seed article leaves it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from . import ids
from .authorization import assignment_resource, definition_id, definition_resource
from .identity import Principal
from .state import Json, SandboxState

DEFAULT_SEED = Path(__file__).with_name("seed.json")
REPO = Path(__file__).resolve().parents[2]


def load_seed(path: Path, state_file: Path | None) -> SandboxState:
    seed = json.loads(path.read_text())
    world = SandboxState(seed["subscriptionId"], seed["location"], state_file)
    world.extra["regions"] = seed.get("regions") or {seed["location"]: {"displayName": seed["location"], "zones": []}}
    for group in seed["resourceGroups"]:
        _add_group(world, group if isinstance(group, dict) else {"name": group})
    for vnet in seed.get("virtualNetworks", []):
        _add_vnet(world, vnet)
    for plan in seed.get("serverFarms", []):
        add_plan(world, plan)
    for site in seed.get("sites", []):
        _add_site(world, site)
    for cluster in seed.get("managedClusters", []):
        _add_cluster(world, cluster)
    _add_access(world, _with_identity(seed))
    return world


IDENTITY_SECTIONS = ("tenantId", "principals", "appIdentity", "roleDefinitions", "roleAssignments")


def _with_identity(seed: dict[str, Any]) -> dict[str, Any]:
    """A seed without principals of its own (a test's world) gets the default seed's tenant, principals and access."""
    if "principals" in seed:
        return seed
    default = json.loads(DEFAULT_SEED.read_text())
    return {**seed, **{k: default[k] for k in IDENTITY_SECTIONS}}


def principals(seed_file: Path) -> tuple[str, list[Principal], str]:
    """The seed's tenant, its principals, and the one the app's identity endpoint speaks for."""
    seed = _with_identity(json.loads(seed_file.read_text()))
    return seed["tenantId"], [Principal.from_seed(p) for p in seed["principals"]], seed["appIdentity"]


def _add_access(world: SandboxState, seed: dict[str, Any]) -> None:
    """Role definitions (built-in ones as published; custom ones read from their file, e.g. the role
    infra/ deploys) and the role assignments of the seeded principals."""
    by_name: dict[str, str] = {}
    for spec in seed.get("roleDefinitions", []):
        if "file" in spec:
            properties = json.loads((REPO / spec["file"]).read_text())
            guid = _guid(world, "roleDefinition:" + properties["roleName"])
        else:
            properties, guid = spec["properties"], spec["id"]
        world.put(definition_resource(world.subscription_id, guid, properties, spec["roleType"]))
        by_name[properties["roleName"]] = definition_id(world.subscription_id, guid)
    object_ids = {p["name"]: (p["objectId"], p["principalType"]) for p in seed.get("principals", [])}
    for spec in seed.get("roleAssignments", []):
        object_id, principal_type = object_ids[spec["principal"]]
        name = _guid(world, f"roleAssignment:{spec['principal']}:{spec['role']}:{spec['scope']}".lower())
        assignment_id = f"{spec['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}"
        world.put(assignment_resource(assignment_id, spec["scope"], by_name[spec["role"]], object_id, principal_type))


def _add_group(world: SandboxState, spec: dict[str, Any]) -> None:
    """A resource group; ``managedBy`` (``rg/cluster``) marks one that AKS owns, as its node resource group is."""
    group = world.add_group(spec["name"], spec.get("location", world.location))
    if spec.get("managedBy"):
        owner_rg, owner = spec["managedBy"].split("/")
        group["managedBy"] = ids.provider_id(
            world.subscription_id, owner_rg, "Microsoft.ContainerService", "managedClusters", owner
        )


def _guid(world: SandboxState, name: str) -> str:
    return str(uuid.uuid5(uuid.UUID(world.subscription_id), name))


def tenant_id(world: SandboxState) -> str:
    """The directory the subscription belongs to (stable per subscription)."""
    return _guid(world, "tenant")


def _add_vnet(world: SandboxState, spec: dict[str, Any]) -> None:
    vnet_id = ids.provider_id(
        world.subscription_id, spec["resourceGroup"], "Microsoft.Network", "virtualNetworks", spec["name"]
    )
    world.put(
        {
            "name": spec["name"],
            "id": vnet_id,
            "etag": f'W/"{_guid(world, vnet_id)}"',
            "type": ids.VNET_TYPE,
            "location": spec.get("location", world.location),
            "properties": {
                "provisioningState": "Succeeded",
                "resourceGuid": _guid(world, vnet_id + "#guid"),
                "addressSpace": {"addressPrefixes": spec["addressPrefixes"]},
                "virtualNetworkPeerings": [],
                "enableDdosProtection": False,
            },
        }
    )
    for subnet in spec.get("subnets", []):
        subnet_id = f"{vnet_id}/subnets/{subnet['name']}"
        world.put(
            {
                "name": subnet["name"],
                "id": subnet_id,
                "etag": f'W/"{_guid(world, subnet_id)}"',
                "type": ids.SUBNET_TYPE,
                "properties": {
                    "provisioningState": "Succeeded",
                    "addressPrefix": subnet["addressPrefix"],
                    "delegations": [],
                    "privateEndpointNetworkPolicies": "Disabled",
                    "privateLinkServiceNetworkPolicies": "Enabled",
                },
            }
        )


def add_plan(world: SandboxState, spec: dict[str, Any]) -> Json:
    """An App Service plan from ``{resourceGroup, name, sku: {name, tier}, reserved?}`` (also App Service's PUT)."""
    plan_id = ids.provider_id(
        world.subscription_id, spec["resourceGroup"], "Microsoft.Web", "serverfarms", spec["name"]
    )
    reserved = bool(spec.get("reserved", False))
    return world.put(
        {
            "id": plan_id,
            "name": spec["name"],
            "type": ids.PLAN_TYPE,
            "kind": spec.get("kind", "linux" if reserved else "app"),
            "location": world.location,
            "sku": {
                **spec["sku"],
                "size": spec["sku"]["name"],
                "family": spec["sku"]["name"].rstrip("0123456789v"),
                "capacity": 1,
            },
            "properties": {
                "status": "Ready",
                "maximumNumberOfWorkers": 10,
                "numberOfSites": 0,
                "reserved": reserved,
                "isXenon": False,
                "hyperV": False,
                "provisioningState": "Succeeded",
                "resourceGroup": spec["resourceGroup"],
                "geoRegion": "West Europe",
            },
        }
    )


def _add_site(world: SandboxState, spec: dict[str, Any]) -> None:
    site_id = ids.provider_id(world.subscription_id, spec["resourceGroup"], "Microsoft.Web", "sites", spec["name"])
    plan = world.get(
        ids.provider_id(
            world.subscription_id, spec["resourceGroup"], "Microsoft.Web", "serverfarms", spec["serverFarm"]
        )
    )
    assert plan is not None, f"site {spec['name']} names an unknown plan {spec['serverFarm']}"
    plan["properties"]["numberOfSites"] += 1
    reserved = plan["properties"]["reserved"]
    host = f"{spec['name']}.azurewebsites.net"
    world.put(
        {
            "id": site_id,
            "name": spec["name"],
            "type": ids.SITE_TYPE,
            "kind": spec.get("kind", "app,linux" if reserved else "app"),
            "location": world.location,
            "properties": {
                "name": spec["name"],
                "state": "Running",
                "hostNames": [host],
                "enabledHostNames": [host, f"{spec['name']}.scm.azurewebsites.net"],
                "defaultHostName": host,
                "enabled": True,
                "reserved": reserved,
                "isXenon": False,
                "hyperV": False,
                "serverFarmId": plan["id"],
                "resourceGroup": spec["resourceGroup"],
                "httpsOnly": False,
                "virtualNetworkSubnetId": None,
                "vnetRouteAllEnabled": False,
                "outboundVnetRouting": {"allTraffic": False, "applicationTraffic": False},
                "clientAffinityEnabled": True,
                "sku": plan["sku"]["tier"],
            },
            "_appSettings": dict(spec.get("appSettings", {})),
            "_siteConfig": {
                "numberOfWorkers": 1,
                "netFrameworkVersion": "v4.0",
                "linuxFxVersion": spec.get("linuxFxVersion", "NODE|20-lts" if reserved else ""),
                "alwaysOn": False,
                "http20Enabled": True,
                "minTlsVersion": "1.2",
                "ftpsState": "FtpsOnly",
                "vnetName": "",
                "vnetRouteAllEnabled": False,
                "vnetPrivatePortsCount": 0,
            },
            "_seed": {"privateAddressSetting": spec.get("privateAddressSetting", "PrivateAddress")},
        }
    )


def _add_cluster(world: SandboxState, spec: dict[str, Any]) -> None:
    cluster_id = ids.provider_id(
        world.subscription_id, spec["resourceGroup"], "Microsoft.ContainerService", "managedClusters", spec["name"]
    )
    vnet_rg, vnet_name, subnet_name = spec["subnet"].split("/")
    subnet_id = ids.provider_id(
        world.subscription_id, vnet_rg, "Microsoft.Network", "virtualNetworks", vnet_name, "subnets", subnet_name
    )
    assert world.get(subnet_id) is not None, f"cluster {spec['name']} names an unknown subnet {spec['subnet']}"
    world.put(
        {
            "id": cluster_id,
            "name": spec["name"],
            "type": ids.CLUSTER_TYPE,
            "location": world.location,
            "sku": {"name": "Base", "tier": "Free"},
            "identity": {
                "type": "SystemAssigned",
                "principalId": _guid(world, cluster_id + "#mi"),
                "tenantId": tenant_id(world),
            },
            "properties": {
                "provisioningState": "Succeeded",
                "powerState": {"code": "Running"},
                "kubernetesVersion": spec.get("kubernetesVersion", "1.20.2"),
                "currentKubernetesVersion": spec.get("kubernetesVersion", "1.20.2"),
                "dnsPrefix": spec["name"],
                "fqdn": f"{spec['name']}-dns.hcp.{world.location}.azmk8s.io",
                "agentPoolProfiles": [
                    {
                        "name": "nodepool1",
                        "count": spec.get("nodeCount", 3),
                        "vmSize": "Standard_D2s_v5",
                        "osType": "Linux",
                        "mode": "System",
                        "type": "VirtualMachineScaleSets",
                        "vnetSubnetID": subnet_id,
                        "provisioningState": "Succeeded",
                        "powerState": {"code": "Running"},
                    }
                ],
                "nodeResourceGroup": f"MC_{spec['resourceGroup']}_{spec['name']}_{world.location}",
                "enableRBAC": True,
                "networkProfile": {
                    "networkPlugin": "azure",
                    "loadBalancerSku": "standard",
                    "serviceCidr": "10.96.0.0/24",
                    "dnsServiceIP": "10.96.0.10",
                    "outboundType": "loadBalancer",
                },
                "disableLocalAccounts": False,
            },
        }
    )
