"""Microsoft.Resources: resource groups (enough for clients that check or create one) and the subscription's
locations with their availability zones."""

from __future__ import annotations

from . import errors
from .cloud import Cloud
from .routing import SUB, Request, Response, Router, json_response

router = Router()
_GROUP = SUB + r"/resourceGroups/(?P<rg>[-\w._()]+)"


@router.route("GET", SUB + "/locations")
def list_locations(cloud: Cloud, req: Request) -> Response:
    """Shaped as azure-rest-api-specs specification/resources/resource-manager/Microsoft.Resources/subscriptions/
    stable/2022-12-01/examples/GetLocations.json: ``availabilityZoneMappings`` only where the region has zones."""
    found = []
    for name, region in cloud.world.extra.get("regions", {}).items():
        location = {
            "id": f"/subscriptions/{cloud.subscription_id}/locations/{name}",
            "name": name,
            "type": "Region",
            "displayName": region["displayName"],
            "regionalDisplayName": f"(Europe) {region['displayName']}",
            "metadata": {"regionType": "Physical", "regionCategory": "Recommended" if region["zones"] else "Other"},
        }
        if region["zones"]:
            location["availabilityZoneMappings"] = [
                {"logicalZone": zone, "physicalZone": f"{name}-az{zone}"} for zone in region["zones"]
            ]
        found.append(location)
    return json_response(200, {"value": found})


@router.route("GET", _GROUP)
def get_group(cloud: Cloud, req: Request) -> Response:
    return json_response(200, cloud.require_group(req.params["rg"]))


@router.route("HEAD", _GROUP)
def check_group(cloud: Cloud, req: Request) -> Response:
    return Response(204 if cloud.world.group(req.params["rg"]) else 404)


@router.route("PUT", _GROUP)
def put_group(cloud: Cloud, req: Request) -> Response:
    body = req.json_object()
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise errors.bad_request("LocationRequired", "The location property is required for this definition.")
    existing = cloud.world.group(req.params["rg"])
    if existing is not None:
        return json_response(200, existing)
    return json_response(201, cloud.world.add_group(req.params["rg"], location))
