"""The sandbox's world: resource groups, resources as ARM JSON, and running operations.

Everything is keyed by lower-cased ARM id (ARM names are case-insensitive) and stored as the JSON a GET
returns, plus private bookkeeping under keys starting with ``_`` that are never rendered. Operations carry
wall-clock deadlines and are settled lazily (on every request and by a ticker), so a sandbox restarted on
the same state directory resumes them, as Azure keeps going while a client is away.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import ids

Json = dict[str, Any]


@dataclass
class Operation:
    """One asynchronous operation, as ``…/operations/{id}`` and ``…/operationResults/{id}`` report it."""

    id: str
    resource_id: str
    kind: str  # "put" | "delete" | "action"
    region: str
    style: str  # "network" | "privatedns": where its status URLs live
    resource_group: str
    started: float
    ends: float
    outcome: str = "Succeeded"
    error: Json | None = None
    result: Any = None
    status: str = "InProgress"

    def status_body(self) -> Json:
        body: Json = {"status": self.status}
        if self.status == "Failed" and self.error:
            body["error"] = {**self.error, "details": []}
        return body


#: Called when a resource's PUT operation has settled (``resource`` is the stored JSON, already final).
CompletionHook = Callable[["SandboxState", Json, Operation], None]


@dataclass
class SandboxState:
    subscription_id: str
    location: str
    state_file: Path | None = None
    groups: dict[str, Json] = field(default_factory=dict)
    resources: dict[str, Json] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    #: Bookkeeping that is not an ARM resource (VPN packages, ILB allocations).
    extra: dict[str, Any] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    hooks: dict[str, CompletionHook] = field(default_factory=dict, repr=False)

    # --- resource groups -------------------------------------------------------------------------------

    def group(self, name: str) -> Json | None:
        return self.groups.get(name.lower())

    def add_group(self, name: str, location: str) -> Json:
        group = {
            "id": ids.rg_id(self.subscription_id, name),
            "name": name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": location,
            "properties": {"provisioningState": "Succeeded"},
        }
        self.groups[name.lower()] = group
        return group

    # --- resources -------------------------------------------------------------------------------------

    def get(self, resource_id: str) -> Json | None:
        return self.resources.get(ids.key(resource_id))

    def put(self, resource: Json) -> Json:
        self.resources[ids.key(resource["id"])] = resource
        return resource

    def remove(self, resource_id: str) -> None:
        """Remove a resource and everything nested under it."""
        prefix = ids.key(resource_id)
        for k in [k for k in self.resources if k == prefix or k.startswith(prefix + "/")]:
            del self.resources[k]

    def children(self, parent_id: str, child_type: str) -> list[Json]:
        """Direct children of ``parent_id`` of one type (e.g. a VNet's ``subnets``), in creation order."""
        prefix = ids.key(parent_id) + "/" + child_type.lower() + "/"
        return [r for k, r in self.resources.items() if k.startswith(prefix) and "/" not in k[len(prefix) :]]

    def of_type(self, full_type: str) -> Iterator[Json]:
        wanted = full_type.lower()
        for resource in list(self.resources.values()):
            if resource.get("type", "").lower() == wanted:
                yield resource

    # --- operations ------------------------------------------------------------------------------------

    def start_operation(
        self,
        resource_id: str,
        kind: str,
        *,
        duration: float,
        style: str = "network",
        outcome: str = "Succeeded",
        error: Json | None = None,
        result: Any = None,
    ) -> Operation:
        parsed = ids.parse(resource_id)
        now = time.time()
        op = Operation(
            id=str(uuid.uuid4()),
            resource_id=resource_id,
            kind=kind,
            region=self.location,
            style=style,
            resource_group=parsed.resource_group if parsed else "",
            started=now,
            ends=now + duration,
            outcome=outcome,
            error=error,
            result=result,
        )
        self.operations[op.id] = op
        return op

    def running_operation(self, resource_id: str) -> Operation | None:
        """The PUT or DELETE in progress on a resource (POST actions read it and do not hold it)."""
        wanted = ids.key(resource_id)
        for op in self.operations.values():
            if op.status == "InProgress" and op.kind != "action" and ids.key(op.resource_id) == wanted:
                return op
        return None

    def settle(self, now: float | None = None) -> bool:
        """Finish every operation whose time has come; True when anything changed."""
        now = time.time() if now is None else now
        due = sorted(
            (op for op in self.operations.values() if op.status == "InProgress" and op.ends <= now),
            key=lambda op: op.ends,
        )
        for op in due:
            self._finish(op)
        return bool(due)

    def _finish(self, op: Operation) -> None:
        op.status = op.outcome
        group = next((g for g in self.groups.values() if ids.key(g["id"]) == ids.key(op.resource_id)), None)
        if group is not None:
            self._finish_group(op, group)
            return
        resource = self.get(op.resource_id)
        if resource is None:
            return
        if op.kind == "delete":
            if op.outcome == "Succeeded":
                self.remove(op.resource_id)
            else:
                _set_states(resource, "Failed")
        elif op.kind == "put":
            prefix = ids.key(op.resource_id)
            for k, nested in self.resources.items():
                if k == prefix or k.startswith(prefix + "/"):
                    _set_states(nested, op.outcome)
            hook = self.hooks.get(resource.get("type", "").lower())
            if hook is not None:
                hook(self, resource, op)

    def _finish_group(self, op: Operation, group: Json) -> None:
        """A group's deletion removes the group and everything in it."""
        if op.kind == "delete" and op.outcome == "Succeeded":
            self.remove(group["id"])
            del self.groups[group["name"].lower()]
        else:
            group["properties"]["provisioningState"] = "Succeeded"

    # --- persistence -----------------------------------------------------------------------------------

    def snapshot(self) -> Json:
        return {
            "subscriptionId": self.subscription_id,
            "location": self.location,
            "groups": self.groups,
            "resources": self.resources,
            "operations": {k: asdict(op) for k, op in self.operations.items()},
            "extra": self.extra,
        }

    def save(self) -> None:
        """Write the state file atomically (a crash never leaves half a world)."""
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.snapshot(), indent=1, sort_keys=True))
        os.replace(tmp, self.state_file)

    def load(self, data: Json) -> None:
        self.groups = data["groups"]
        self.resources = data["resources"]
        self.operations = {k: Operation(**v) for k, v in data["operations"].items()}
        self.extra = data.get("extra", {})


def _set_states(node: Any, state: str) -> None:
    """Set every transitional ``provisioningState`` in a resource tree to ``state``."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "provisioningState" and v in ("Updating", "Creating", "Deleting"):
                node[k] = state
            else:
                _set_states(v, state)
    elif isinstance(node, list):
        for item in node:
            _set_states(item, state)


def public(resource: Json) -> Json:
    """A deep copy of a stored resource without the sandbox's private ``_`` keys."""
    return {k: copy.deepcopy(v) for k, v in resource.items() if not k.startswith("_")}
