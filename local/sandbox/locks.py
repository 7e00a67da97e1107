"""Microsoft.Authorization/locks: management locks at subscription, resource group and resource scope, and the
rule ARM applies to every request beneath one.

Rules (Microsoft's lock documentation, lock-resources.md, as the facts list in kubelink's README cites it): a
``ReadOnly`` lock blocks PUT, PATCH, DELETE and POST actions at its scope and below — so even
``POST …/config/appsettings/list`` — and a ``CanNotDelete`` lock blocks DELETE; GETs are never blocked, nor is the
management of locks themselves. ARM answers 409 ``ScopeLocked`` with the message shape of Microsoft's Azure
Automation troubleshooting article (automation/troubleshoot/start-stop-vm.md): "The scope '{scope}' cannot perform
write operation because following scope(s) are locked: '{lock ids}'. Please remove the lock and try again." (a
delete says "delete operation"). Locks live in ``world.extra["locks"]``, keyed by lower-cased lock id.
"""

from __future__ import annotations

from . import ids
from .arm_errors import ArmError, bad_request
from .cloud import Cloud
from .routing import NAME, Request, Response, Router, json_response
from .state import Json, SandboxState

LOCK_TYPE = "Microsoft.Authorization/locks"
LEVELS = {"readonly": "ReadOnly", "cannotdelete": "CanNotDelete"}
_SCOPE = r"(?P<scope>/subscriptions/[^/]+(?:/resourceGroups/[^/]+(?:/providers/.+?)?)?)"
_LOCKS = _SCOPE + r"/providers/Microsoft\.Authorization/locks"
_MARKER = "/providers/microsoft.authorization/locks"

router = Router()


def _locks(world: SandboxState) -> dict[str, Json]:
    found: dict[str, Json] = world.extra.setdefault("locks", {})
    return found


def _lock_id(req: Request) -> str:
    return f"{req.params['scope']}/providers/{LOCK_TYPE}/{req.params['lock']}"


def _check_scope(cloud: Cloud, scope: str) -> None:
    parsed = ids.parse(scope)
    group = parsed.resource_group if parsed else scope.split("/")[4] if scope.count("/") >= 4 else None
    if group:
        cloud.require_group(group)
    if parsed is not None and cloud.world.get(scope) is None:
        raise ArmError(404, "ResourceNotFound", f"The Resource '{scope}' was not found.")


@router.route("PUT", _LOCKS + rf"/(?P<lock>{NAME})")
def put_lock(cloud: Cloud, req: Request) -> Response:
    _check_scope(cloud, req.params["scope"])
    props = req.json_object().get("properties") or {}
    level = LEVELS.get(str(props.get("level", "")).lower())
    if level is None:
        # chosen code: the real one for a bad level is not on record
        raise bad_request("LockLevelInvalid", "The lock level must be one of 'CanNotDelete' or 'ReadOnly'.")
    lock_id = _lock_id(req)
    existing = _locks(cloud.world).get(lock_id.lower())
    lock: Json = {
        "id": lock_id,
        "name": req.params["lock"],
        "type": LOCK_TYPE,
        "properties": {"level": level, "notes": props.get("notes"), "owners": props.get("owners") or []},
    }
    _locks(cloud.world)[lock_id.lower()] = lock
    return json_response(200 if existing else 201, lock)


@router.route("GET", _LOCKS + rf"/(?P<lock>{NAME})")
def get_lock(cloud: Cloud, req: Request) -> Response:
    lock = _locks(cloud.world).get(_lock_id(req).lower())
    if lock is None:
        raise ArmError(404, "LockNotFound", f"The lock '{req.params['lock']}' could not be found.")
    return json_response(200, lock)


@router.route("GET", _LOCKS)
def list_locks(cloud: Cloud, req: Request) -> Response:
    """The locks at the scope and above it (what applies there), as ``az lock list`` shows them."""
    scope = req.params["scope"]
    return json_response(200, {"value": [lock for lock in _locks(cloud.world).values() if _covers(lock, scope)]})


@router.route("DELETE", _LOCKS + rf"/(?P<lock>{NAME})")
def delete_lock(cloud: Cloud, req: Request) -> Response:
    removed = _locks(cloud.world).pop(_lock_id(req).lower(), None)
    return Response(200 if removed else 204)


def _covers(lock: Json, path: str) -> bool:
    scope = lock["id"].lower().split(_MARKER)[0]
    target = path.lower().rstrip("/")
    return target == scope or target.startswith(scope + "/")


def _forbids(lock: Json, method: str) -> bool:
    level = lock["properties"]["level"]
    return level == "ReadOnly" or (level == "CanNotDelete" and method == "DELETE")


def enforce(world: SandboxState, method: str, path: str) -> None:
    """Refuse a request beneath a lock that forbids it: ReadOnly forbids every write and POST action, CanNotDelete
    every DELETE. Lock management and reads pass."""
    if method in ("GET", "HEAD") or _MARKER in path.lower():
        return
    blocking = [
        lock["id"]
        for lock in _locks(world).values()
        if _covers(lock, path)
        and (
            lock["properties"]["level"] == "ReadOnly"
            or (method == "DELETE" and lock["properties"]["level"] == "CanNotDelete")
        )
    ]
    if blocking:
        operation = "delete" if method == "DELETE" else "write"
        raise ArmError(
            409,
            "ScopeLocked",
            f"The scope '{path}' cannot perform {operation} operation because following scope(s) are locked: "
            f"{', '.join(repr(b) for b in blocking)}. Please remove the lock and try again.",
        )
