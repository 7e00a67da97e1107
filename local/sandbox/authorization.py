"""Microsoft.Authorization: role definitions and role assignments, at any scope (extension resources).

Shapes follow the REST specs' examples (azure-rest-api-specs, specification/authorization, RoleAssignments_Get and
RoleDefinitions_Get): ``{id, name, type, properties: {roleDefinitionId, principalId, principalType, scope, …}}`` and
``{id, name, type, properties: {roleName, type, description, assignableScopes, permissions}}``. Role definitions
live at the subscription; lists honour ``$filter=principalId eq '…'``, ``atScope()`` and ``roleName eq '…'``.
"""

from __future__ import annotations

import re
import time

from . import arm_errors
from .cloud import Cloud
from .rbac import ROLE_ASSIGNMENT_TYPE, ROLE_DEFINITION_TYPE, applies
from .routing import Request, Response, Router, json_response
from .state import Json, public

router = Router()
_SCOPE = r"(?P<scope>/subscriptions/[^/]+(?:/.+?)?)"
_ASSIGNMENTS = _SCOPE + r"/providers/Microsoft\.Authorization/roleAssignments"
_DEFINITIONS = _SCOPE + r"/providers/Microsoft\.Authorization/roleDefinitions"
_GUID = r"(?P<name>[0-9a-fA-F-]{36})"


def definition_id(subscription_id: str, guid: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _filter_value(req: Request, field: str) -> str | None:
    found = re.search(rf"{field}\s+eq\s+'([^']*)'", req.query.get("$filter", ""), re.IGNORECASE)
    return found.group(1) if found else None


@router.route("GET", _DEFINITIONS + "/" + _GUID)
def get_definition(cloud: Cloud, req: Request) -> Response:
    found = cloud.world.get(definition_id(cloud.subscription_id, req.params["name"]))
    if found is None:
        raise arm_errors.ArmError(
            404,
            "RoleDefinitionDoesNotExist",
            f"The specified role definition with ID '{req.params['name']}' does not exist.",
        )
    return json_response(200, public(found))


@router.route("GET", _DEFINITIONS)
def list_definitions(cloud: Cloud, req: Request) -> Response:
    name = _filter_value(req, "roleName")
    found = [
        public(d)
        for d in cloud.world.of_type(ROLE_DEFINITION_TYPE)
        if name is None or d["properties"]["roleName"].lower() == name.lower()
    ]
    return json_response(200, {"value": found})


@router.route("GET", _ASSIGNMENTS + "/" + _GUID)
def get_assignment(cloud: Cloud, req: Request) -> Response:
    return json_response(200, public(_assignment(cloud, req)))


@router.route("GET", _ASSIGNMENTS)
def list_assignments(cloud: Cloud, req: Request) -> Response:
    scope, principal = req.params["scope"], _filter_value(req, "principalId")
    at_scope = "atscope()" in req.query.get("$filter", "").lower()

    def listed(assignment: Json) -> bool:
        props = assignment["properties"]
        if principal is not None and props["principalId"].lower() != principal.lower():
            return False
        return applies(props["scope"], scope) or (not at_scope and applies(scope, props["scope"]))

    return json_response(200, {"value": [public(a) for a in cloud.world.of_type(ROLE_ASSIGNMENT_TYPE) if listed(a)]})


@router.route("PUT", _ASSIGNMENTS + "/" + _GUID)
def put_assignment(cloud: Cloud, req: Request) -> Response:
    props = req.json_object().get("properties") or {}
    role, principal = props.get("roleDefinitionId"), props.get("principalId")
    if not isinstance(role, str) or cloud.world.get(role) is None:
        raise arm_errors.bad_request(
            "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{role}' does not exist."
        )
    if not isinstance(principal, str) or not principal:
        raise arm_errors.bad_request("InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
    assignment_id = f"{req.params['scope']}/providers/Microsoft.Authorization/roleAssignments/{req.params['name']}"
    existing = cloud.world.get(assignment_id)
    cloud.world.put(
        assignment_resource(assignment_id, req.params["scope"], role, principal, props.get("principalType", "User"))
    )
    return json_response(200 if existing else 201, public(cloud.world.get(assignment_id) or {}))


@router.route("DELETE", _ASSIGNMENTS + "/" + _GUID)
def delete_assignment(cloud: Cloud, req: Request) -> Response:
    assignment_id = f"{req.params['scope']}/providers/Microsoft.Authorization/roleAssignments/{req.params['name']}"
    found = cloud.world.get(assignment_id)
    if found is None:
        return Response(204)
    cloud.world.remove(assignment_id)
    return json_response(200, public(found))


def _assignment(cloud: Cloud, req: Request) -> Json:
    assignment_id = f"{req.params['scope']}/providers/Microsoft.Authorization/roleAssignments/{req.params['name']}"
    found = cloud.world.get(assignment_id)
    if found is None:
        raise arm_errors.ArmError(
            404, "RoleAssignmentNotFound", f"The role assignment '{req.params['name']}' is not found."
        )
    return found


def assignment_resource(assignment_id: str, scope: str, role_id: str, principal_id: str, principal_type: str) -> Json:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())
    return {
        "id": assignment_id,
        "name": assignment_id.rsplit("/", 1)[-1],
        "type": ROLE_ASSIGNMENT_TYPE,
        "properties": {
            "roleDefinitionId": role_id,
            "principalId": principal_id,
            "principalType": principal_type,
            "scope": scope,
            "condition": None,
            "conditionVersion": None,
            "createdOn": stamp,
            "updatedOn": stamp,
            "delegatedManagedIdentityResourceId": None,
            "description": None,
        },
    }


def definition_resource(subscription_id: str, guid: str, properties: Json, role_type: str) -> Json:
    permissions = [
        {
            "actions": list(p.get("actions", [])),
            "notActions": list(p.get("notActions", [])),
            "dataActions": list(p.get("dataActions", [])),
            "notDataActions": list(p.get("notDataActions", [])),
        }
        for p in properties["permissions"]
    ]
    return {
        "id": definition_id(subscription_id, guid),
        "name": guid,
        "type": ROLE_DEFINITION_TYPE,
        "properties": {
            "roleName": properties["roleName"],
            "type": role_type,
            "description": properties.get("description", ""),
            "assignableScopes": list(properties.get("assignableScopes") or [f"/subscriptions/{subscription_id}"]),
            "permissions": permissions,
        },
    }
