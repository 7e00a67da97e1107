"""Azure RBAC as ARM applies it to every request: which action a request is, over which scope, and whether a
role assignment of the caller grants it.

- **Action** (``action_for``): ARM's rule for operation names, ``{Namespace}/{resourceType}/{action}``
  (Azure's resource provider operations lists, "Permission strings have the following format"): the namespace
  of the last ``providers`` segment (``Microsoft.Resources`` for subscriptions and resource groups), every type
  segment after it, then ``read`` (GET, HEAD), ``write`` (PUT, PATCH), ``delete`` (DELETE), or, for a POST,
  the last segment followed by ``/action``. Its spelling comes from ``provider_operations.json``, a copy of
  those lists; tests/sandbox/test_rbac.py fails for a route whose action is not in it.
- **Scope** (``scope_for``): the request's path, except an operation status URL
  (``…/providers/{ns}/locations/{region}/operations|operationResults/{id}``): Azure's "Track asynchronous
  Azure operations" asks for permission at the level of the resource group the operation ran in
  (MicrosoftDocs/azure-docs async-operations.md, "Permission for tracking async status"; issue #111535).
- **Decision** (``Authorizer.check``): an assignment applies at its scope and below (subscription → group →
  resource); its role grants an action matched by one of a permission's ``actions`` and none of that
  permission's ``notActions`` (``*`` is the only wildcard). Refused: 403 ``AuthorizationFailed`` with ARM's
  message (recorded in Azure/ARO-RP#66 and Azure/azure-rest-api-specs#13700).
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from . import ids
from .arm_errors import ArmError
from .identity import Principal
from .state import Json, SandboxState

OPERATIONS_FILE = Path(__file__).with_name("provider_operations.json")
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"
#: Tenant-level lists ARM filters by the caller's access instead of authorising at a scope.
TENANT_LISTS = frozenset({"/subscriptions", "/tenants"})
_VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}
_OPERATION_STATUS = re.compile(
    r"^/subscriptions/[^/]+/providers/[^/]+/locations/[^/]+/(?:operations|operationResults)/(?P<op>[^/]+)$",
    re.IGNORECASE,
)


@functools.cache
def published_operations() -> dict[str, str]:
    """Every operation name of the copied lists, by its lower-cased form."""
    operations: list[str] = json.loads(OPERATIONS_FILE.read_text())["operations"]
    return {name.lower(): name for name in operations}


def derived_action(method: str, path: str) -> str:
    """The action ARM's naming rule gives a request, spelled as in the path."""
    segments = [s for s in path.split("/") if s]
    marks = [i for i, s in enumerate(segments) if s.lower() == "providers"]
    if marks and len(segments) - marks[-1] <= 2 and method != "POST":
        # ``…/providers`` and ``…/providers/{namespace}`` are the registry of resource providers itself
        namespace, rest = "Microsoft.Resources", segments
    elif marks:
        namespace, rest = segments[marks[-1] + 1], segments[marks[-1] + 2 :]
    else:
        namespace, rest = "Microsoft.Resources", segments
    if method == "POST":
        return "/".join([namespace, *rest[:-1][0::2], rest[-1], "action"]) if rest else f"{namespace}/action"
    return "/".join([namespace, *rest[0::2], _VERBS.get(method, method.lower())])


def action_for(method: str, path: str) -> str:
    """The action of a request, with the published spelling when the lists have it."""
    derived = derived_action(method, path)
    return published_operations().get(derived.lower(), derived)


def scope_for(path: str, world: SandboxState) -> str:
    found = _OPERATION_STATUS.match(path)
    if found:
        operation = world.operations.get(found["op"])
        if operation is not None and operation.resource_group:
            return ids.rg_id(world.subscription_id, operation.resource_group)
    return path.rstrip("/") or "/"


def applies(assignment_scope: str, scope: str) -> bool:
    """An assignment at ``assignment_scope`` covers ``scope`` (inheritance downwards, never upwards)."""
    outer, inner = assignment_scope.rstrip("/").lower(), scope.rstrip("/").lower()
    return outer == "" or inner == outer or inner.startswith(outer + "/")


def _matches(pattern: str, action: str) -> bool:
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, action, re.IGNORECASE) is not None


def grants(permissions: list[Json], action: str) -> bool:
    return any(
        any(_matches(a, action) for a in p.get("actions", []))
        and not any(_matches(n, action) for n in p.get("notActions", []))
        for p in permissions
    )


class Authorizer:
    """Decides each request and records, per principal, every action it was granted (with the roles that granted
    it) or refused — the evidence tests use to prove a role is exactly enough."""

    def __init__(self, world: SandboxState) -> None:
        self.world = world
        self._lock = threading.Lock()
        self._granted: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._refused: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def check(self, principal: Principal, method: str, path: str) -> str:
        """The action, when granted; otherwise ARM's 403 (the world's lock is held by the caller)."""
        action = action_for(method, path)
        if path.rstrip("/").lower() in TENANT_LISTS and method == "GET":
            return action  # lists only what the caller may see (the handler asks ``sees``), never refused
        scope = scope_for(path, self.world)
        if self._decide(principal, action, scope):
            return action
        raise ArmError(
            403,
            "AuthorizationFailed",
            f"The client '{principal.client}' with object id '{principal.object_id}' does not have authorization "
            f"to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
            "granted, please refresh your credentials.",
            headers={"x-ms-failure-cause": "gateway"},
        )

    def check_linked(self, principal: Principal, method: str, path: str, linked_action: str, linked_id: str) -> None:
        """ARM's linked access check: a write that references another resource (a subnet, a public IP, a VNet)
        also needs that resource's ``join/action``; refused: 403 ``LinkedAuthorizationFailed`` (message as
        recorded in microsoft/planetary-computer-hub#25)."""
        linked_action = published_operations().get(linked_action.lower(), linked_action)
        if self._decide(principal, linked_action, linked_id):
            return
        raise ArmError(
            403,
            "LinkedAuthorizationFailed",
            f"The client '{principal.client}' with object id '{principal.object_id}' has permission to perform "
            f"action '{action_for(method, path)}' on scope '{scope_for(path, self.world)}'; however, it does not "
            f"have permission to perform action '{linked_action}' on the linked scope(s) '{linked_id}' or the "
            "linked scope(s) are invalid.",
        )

    def _decide(self, principal: Principal, action: str, scope: str) -> bool:
        """Whether a role of the principal grants ``action`` at ``scope``, recorded either way."""
        roles = self.granting_roles(principal, action, scope)
        with self._lock:
            if roles:
                self._granted[principal.name][action].update(roles)
            else:
                self._refused[principal.name][action] += 1
        return bool(roles)

    def sees(self, principal: Principal | None, scope: str) -> bool:
        """Whether a tenant-level list shows ``scope`` to the principal: it holds a role at, above or below it
        (ARM's Subscriptions - List answers "the subscriptions the caller has access to")."""
        if principal is None:
            return False
        for assignment in self.world.of_type(ROLE_ASSIGNMENT_TYPE):
            props = assignment["properties"]
            if props["principalId"].lower() == principal.object_id.lower() and (
                applies(props["scope"], scope) or applies(scope, props["scope"])
            ):
                return True
        return False

    def granting_roles(self, principal: Principal, action: str, scope: str) -> list[str]:
        """Names of the roles, assigned to the principal at or above ``scope``, that grant ``action``."""
        names = []
        for assignment in self.world.of_type(ROLE_ASSIGNMENT_TYPE):
            props = assignment["properties"]
            if props["principalId"].lower() != principal.object_id.lower() or not applies(props["scope"], scope):
                continue
            definition = self.world.get(props["roleDefinitionId"])
            if definition is not None and grants(definition["properties"]["permissions"], action):
                names.append(definition["properties"]["roleName"])
        return names

    def record(self) -> dict[str, Any]:
        """``{principal: {"granted": {action: [roles]}, "refused": {action: count}}}``."""
        with self._lock:
            names = set(self._granted) | set(self._refused)
            return {
                name: {
                    "granted": {a: sorted(r) for a, r in sorted(self._granted[name].items())},
                    "refused": dict(sorted(self._refused[name].items())),
                }
                for name in sorted(names)
            }

    def clear(self) -> None:
        with self._lock:
            self._granted.clear()
            self._refused.clear()
