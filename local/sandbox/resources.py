"""Microsoft.Resources: resource groups, subscriptions, locations, provider registrations, cloud metadata.

Enough for the clients around kubelink: the SDKs check or create a group, the az CLI lists subscriptions after
``az login`` and the locations before ``webapp vnet-integration add``, PowerShell and the .NET SDK read a provider's
registration first, and ``az cloud register`` reads the cloud's endpoints. Sources: local/sandbox/README.md,
"Recorded answers".
"""

from __future__ import annotations

import time

from . import arm_errors
from .cloud import Cloud
from .routing import SUB, Request, Response, Router, json_response
from .seed import tenant_id
from .state import Json

router = Router()
_GROUP = SUB + r"/resourceGroups/(?P<rg>[-\w._()]+)"
#: api-versions a provider's resource types list (the sandbox accepts any; clients pick from these).
_API_VERSIONS = {
    "Microsoft.Network": ["2026-03-01", "2025-05-01", "2024-05-01", "2023-09-01", "2021-08-01", "2020-04-01"],
    "Microsoft.Web": ["2025-05-01", "2024-11-01", "2023-12-01", "2022-03-01", "2020-09-01"],
    "Microsoft.ContainerService": ["2025-08-01", "2024-09-01", "2023-10-01"],
    "Microsoft.Resources": ["2025-04-01", "2022-09-01", "2021-04-01"],
}
_RESOURCE_TYPES = {
    "Microsoft.Network": [
        "virtualNetworks",
        "publicIPAddresses",
        "virtualNetworkGateways",
        "privateDnsZones",
        "privateDnsZones/virtualNetworkLinks",
        "privateDnsOperationStatuses",
        "locations",
        "locations/operations",
        "locations/operationResults",
    ],
    "Microsoft.Web": ["sites", "serverfarms", "sites/config", "sites/virtualNetworkConnections"],
    "Microsoft.ContainerService": ["managedClusters"],
    "Microsoft.Resources": ["resourceGroups", "subscriptions", "deployments"],
}
_DISPLAY = {"westeurope": ("West Europe", "(Europe) West Europe", "4.9", "52.3667", "Netherlands", "northeurope")}


# --- resource groups ---------------------------------------------------------------------------------


@router.route("GET", _GROUP)
def get_group(cloud: Cloud, req: Request) -> Response:
    return json_response(200, cloud.require_group(req.params["rg"]))


@router.route("HEAD", _GROUP)
def check_group(cloud: Cloud, req: Request) -> Response:
    return Response(204 if cloud.world.group(req.params["rg"]) else 404)


@router.route("GET", SUB + "/resourcegroups")
def list_groups(cloud: Cloud, req: Request) -> Response:
    return json_response(200, {"value": list(cloud.world.groups.values())})


@router.route("PUT", _GROUP)
def put_group(cloud: Cloud, req: Request) -> Response:
    """Create, or update the tags of, a group: ARM keeps a group's tags and answers with them."""
    body = req.json_object()
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise arm_errors.bad_request("LocationRequired", "The location property is required for this definition.")
    existing = cloud.world.group(req.params["rg"])
    group = existing if existing is not None else cloud.world.add_group(req.params["rg"], location)
    if "tags" in body:
        group["tags"] = dict(body["tags"] or {})
    return json_response(200 if existing is not None else 201, group)


@router.route("DELETE", _GROUP)
def delete_group(cloud: Cloud, req: Request) -> Response:
    """202 with ``Location`` = ``/subscriptions/{s}/operationresults/{id}``; the group and all in it go when it ends."""
    group = cloud.require_group(req.params["rg"])
    running = cloud.world.running_operation(group["id"])
    op = running or cloud.begin(req, group["id"], "delete")
    group["properties"]["provisioningState"] = "Deleting"
    return Response(202, b"", _group_operation_headers(cloud, req, op.id, op.ends))


def _group_operation_headers(cloud: Cloud, req: Request, op_id: str, ends: float) -> dict[str, str]:
    url = f"{req.base_url}/subscriptions/{cloud.subscription_id}/operationresults/{op_id}?api-version={req.api_version}"
    remaining = max(1, min(cloud.settings.max_retry_after, round(ends - time.time() + 0.5)))
    return {"Location": url, "Retry-After": str(remaining)}


@router.route("GET", SUB + r"/operationresults/(?P<op>[^/]+)")
def group_operation_result(cloud: Cloud, req: Request) -> Response:
    """202 (with ``Location`` and ``Retry-After``) while the deletion runs, then 200 with no body."""
    op = cloud.world.operations.get(req.params["op"])
    if op is None:
        raise arm_errors.ArmError(404, "OperationNotFound", f"Operation {req.params['op']} was not found.")
    if op.status == "InProgress":
        return Response(202, b"", _group_operation_headers(cloud, req, op.id, op.ends))
    if op.status == "Failed":
        error = op.error or {"code": "InternalServerError", "message": "The operation failed."}
        raise arm_errors.ArmError(409, error["code"], error["message"])
    return Response(200)


# --- subscriptions, locations, providers ---------------------------------------------------------------


def _subscription(cloud: Cloud) -> Json:
    sub = cloud.subscription_id
    return {
        "id": f"/subscriptions/{sub}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub,
        "tenantId": tenant_id(cloud.world),
        "displayName": "kubelink sandbox",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


@router.route("GET", r"/subscriptions")
def list_subscriptions(cloud: Cloud, req: Request) -> Response:
    """What ``az login`` lists (the one subscription of the sandbox, with ``count`` as ARM adds it): only to a caller
    with a role assignment in it, as ARM lists the subscriptions the caller has access to."""
    visible = (
        [_subscription(cloud)]
        if cloud.authorizer.sees(req.principal, f"/subscriptions/{cloud.subscription_id}")
        else []
    )
    return json_response(200, {"value": visible, "count": {"type": "Total", "value": len(visible)}})


@router.route("GET", SUB)
def get_subscription(cloud: Cloud, req: Request) -> Response:
    return json_response(200, _subscription(cloud))


@router.route("GET", SUB + "/locations")
def list_locations(cloud: Cloud, req: Request) -> Response:
    """The seeded regions, shaped as the az CLI's recording of ``GET /subscriptions/{s}/locations`` shows regions,
    with ``availabilityZoneMappings`` only where the region has zones (azure-rest-api-specs
    specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2022-12-01/examples/
    GetLocations.json)."""
    regions = cloud.world.extra.get("regions") or {cloud.world.location: {"zones": []}}
    return json_response(200, {"value": [_location(cloud, name, region) for name, region in regions.items()]})


def _location(cloud: Cloud, name: str, region: Json) -> Json:
    seeded = region.get("displayName") or name
    display, regional, longitude, latitude, place, pair = _DISPLAY.get(
        name, (seeded, f"(Europe) {seeded}", "0", "0", seeded, name)
    )
    sub = cloud.subscription_id
    location: Json = {
        "id": f"/subscriptions/{sub}/locations/{name}",
        "name": name,
        "type": "Region",
        "displayName": display,
        "regionalDisplayName": regional,
        "metadata": {
            "regionType": "Physical",
            "regionCategory": "Recommended" if region.get("zones") else "Other",
            "geographyGroup": "Europe",
            "longitude": longitude,
            "latitude": latitude,
            "physicalLocation": place,
            "pairedRegion": [{"name": pair, "id": f"/subscriptions/{sub}/locations/{pair}"}],
        },
    }
    if region.get("zones"):
        location["availabilityZoneMappings"] = [
            {"logicalZone": zone, "physicalZone": f"{name}-az{zone}"} for zone in region["zones"]
        ]
    return location


def _provider(cloud: Cloud, namespace: str) -> Json:
    canonical = next((n for n in _RESOURCE_TYPES if n.lower() == namespace.lower()), namespace)
    types = [
        {
            "resourceType": resource_type,
            "locations": ["global"] if "privateDns" in resource_type else [_DISPLAY["westeurope"][0]],
            "apiVersions": _API_VERSIONS.get(canonical, []),
            "capabilities": "None",
        }
        for resource_type in _RESOURCE_TYPES.get(canonical, [])
    ]
    return {
        "id": f"/subscriptions/{cloud.subscription_id}/providers/{canonical}",
        "namespace": canonical,
        "authorizations": [],
        "registrationPolicy": "RegistrationRequired",
        "registrationState": "Registered" if canonical in _RESOURCE_TYPES else "NotRegistered",
        "resourceTypes": types,
    }


@router.route("GET", SUB + r"/providers/(?P<namespace>[\w.]+)")
def get_provider(cloud: Cloud, req: Request) -> Response:
    """``Providers_Get`` (shaped as azure-powershell's session records show it: ``authorizations``, resource types
    with display-name ``locations``, ``apiVersions``, ``capabilities``): the namespaces the sandbox serves are
    Registered, any other NotRegistered."""
    return json_response(200, _provider(cloud, req.params["namespace"]))


@router.route("GET", SUB + "/providers")
def list_providers(cloud: Cloud, req: Request) -> Response:
    return json_response(200, {"value": [_provider(cloud, n) for n in _RESOURCE_TYPES]})


def cloud_metadata(arm_url: str) -> Json:
    """``GET /metadata/endpoints?api-version=2022-09-01``, answered anonymously as Azure does: AzureCloud's
    document with the sandbox as its resource manager (``az cloud register --endpoint-resource-manager``)."""
    return {
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": "https://login.microsoftonline.com",
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": "AzureCloud",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": arm_url.rstrip("/") + "/",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "gallery": "https://gallery.azure.com/",
    }
