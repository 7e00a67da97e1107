"""The Durable Functions HTTP API (the extension's ``HttpApiHandler``) and the client binding that points at it."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from local.host import history as h
from local.host.clock import Clock
from local.host.replay import invalid_orchestrator_message
from local.host.taskhub import TERMINAL_STATES, Instance, InstanceExists, Query, Store

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
RPC_PATH = "/durabletask"
CONNECTION_NAME = "Storage"
MAX_INSTANCE_ID_LENGTH = 256
_RUNTIME_STATUSES = (
    "Running",
    "Completed",
    "ContinuedAsNew",
    "Failed",
    "Canceled",
    "Terminated",
    "Pending",
    "Suspended",
)


class _ArgumentError(Exception):
    """.NET ``ArgumentException``: the handler turns it into 400 "One or more of the arguments…"."""


def client_binding(origin: str, hub: str, required_query: str = "") -> str:
    """``BindingHelper.DurableOrchestrationClientToString`` for a host whose RPC and webhooks share ``origin``."""
    base = origin + WEBHOOK_PATH
    suffix = f"taskHub={quote(hub)}&connection={CONNECTION_NAME}" + (f"&{required_query}" if required_query else "")
    instance = f"{base}/instances/INSTANCEID"
    creation = f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
    payload = {
        "taskHubName": hub,
        "connectionName": None,
        "creationUrls": {
            "createNewInstancePostUri": f"{creation}?{required_query}",
            "createAndWaitOnNewInstancePostUri": (
                f"{creation}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{required_query}"
            ),
        },
        "managementUrls": _management_urls(instance, "INSTANCEID", suffix),
        "baseUrl": base,
        "requiredQueryStringParameters": required_query,
        "rpcBaseUrl": f"{origin}{RPC_PATH}/",
        "httpBaseUrl": base,
        "maxGrpcMessageSizeInBytes": 4194304,
        "grpcHttpClientTimeout": "00:01:40",
    }
    return json.dumps(payload)


def _management_urls(instance_prefix: str, instance_id: str, suffix: str) -> dict[str, str]:
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{instance_prefix}?{suffix}",
        "sendEventPostUri": f"{instance_prefix}/raiseEvent/{{eventName}}?{suffix}",
        "terminatePostUri": f"{instance_prefix}/terminate?reason={{text}}&{suffix}",
        "rewindPostUri": f"{instance_prefix}/rewind?reason={{text}}&{suffix}",
        "purgeHistoryDeleteUri": f"{instance_prefix}?{suffix}",
        "restartPostUri": f"{instance_prefix}/restart?{suffix}",
        "suspendPostUri": f"{instance_prefix}/suspend?reason={{text}}&{suffix}",
        "resumePostUri": f"{instance_prefix}/resume?reason={{text}}&{suffix}",
    }


def _error(status: int, message: str, exc: BaseException | None = None, exc_type: str | None = None) -> web.Response:
    """ASP.NET ``CreateErrorResponse``: ``Message`` plus the exception's message/type when there is one."""
    body: dict[str, Any] = {"Message": message}
    if exc is not None:
        body.update({"ExceptionMessage": str(exc), "ExceptionType": exc_type or type(exc).__name__, "StackTrace": None})
    return web.json_response(body, status=status)


def _bool(query: Any, name: str, default: bool) -> bool:
    """.NET ``bool.TryParse``: case-insensitive true/false, anything else is the default."""
    value = str(query.get(name, "")).strip().lower()
    return {"true": True, "false": False}.get(value, default)


def _time(query: Any, name: str) -> datetime | None:
    value = query.get(name)
    if not value:
        return None
    try:
        return h.parse_time(value)
    except (ValueError, OverflowError):
        return None


class DurableApi:
    """Serves both ``/runtime/webhooks/durabletask/…`` and the ``rpcBaseUrl`` prefix, as one router."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        hub: str,
        orchestrators: Callable[[], list[str]],
        wake: Callable[[], None],
    ) -> None:
        self.store = store
        self.clock = clock
        self.hub = hub
        self._orchestrators = orchestrators
        self._wake = wake

    # --- operations shared with in-process callers ---------------------------------------------

    def start(self, name: str, instance_id: str | None, input_json: str | None) -> str:
        """``DurableClient.StartNewAsync``: validation, dedupe of running ids, then an ExecutionStarted message."""
        if name not in self._orchestrators():
            raise _ArgumentError(invalid_orchestrator_message(name, self._orchestrators()))
        if not instance_id:
            instance_id = uuid.uuid4().hex
        elif instance_id.startswith("@"):
            raise _ArgumentError("instanceId (Parameter 'Orchestration instance ids must not start with @.')")
        elif any(c in "/\\?#" or ord(c) < 32 or 127 <= ord(c) < 160 for c in instance_id):
            raise _ArgumentError(
                "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control "
                "characters.')"
            )
        if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
            raise _ArgumentError(f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters.")
        self.store.create_instance(
            name=name,
            instance_id=instance_id,
            execution_id=uuid.uuid4().hex,
            input_json=input_json,
            now=self.clock.now(),
        )
        self._wake()
        return instance_id

    def status_payload(
        self, instance: Instance, *, show_history: bool, show_output: bool, show_input: bool
    ) -> dict[str, Any]:
        """``StatusResponsePayload`` (``historyEvents`` only when asked for and the instance has started)."""
        payload: dict[str, Any] = {
            "name": instance.name,
            "instanceId": instance.instance_id,
            "runtimeStatus": instance.status,
            "input": h.decode_json(instance.input) if show_input else None,
            "customStatus": h.decode_json(instance.custom_status),
            "output": h.decode_json(instance.output),
            "createdTime": h.format_status_time(h.parse_time(instance.created)),
            "lastUpdatedTime": h.format_status_time(h.parse_time(instance.updated)),
        }
        if show_history and instance.status != "Pending":
            events = self.store.history(instance.instance_id)
            payload["historyEvents"] = h.for_status(events, show_output=show_output, show_input=show_input)
        return payload

    # --- HTTP ----------------------------------------------------------------------------------

    async def handle(self, request: web.Request, path: str) -> web.StreamResponse:
        """Route like ``HttpApiHandler.HandleRequestAsync`` (``path`` is relative to the matched prefix)."""
        parts = [p for p in path.strip("/").split("/") if p] if path.strip("/") else []
        method = request.method
        try:
            if parts and parts[0].lower() == "orchestrators" and 2 <= len(parts) <= 3:
                if method != "POST":
                    return web.Response(status=404)
                return await self._start(request, parts[1], parts[2] if len(parts) == 3 else None)
            if parts and parts[0].lower() == "instances":
                return await self._instances(request, parts[1:])
            if parts and parts[0].lower() == "entities":
                return _error(501, "Durable entities are not emulated by the local host.")
            return web.Response(status=404)
        except _ArgumentError as exc:
            return _error(400, "One or more of the arguments submitted is incorrect", exc, "System.ArgumentException")
        except InstanceExists as exc:
            instance = self.store.get_instance(str(exc))
            state = instance.status if instance else "Running"
            return _error(
                500,
                "Something went wrong while processing your request",
                Exception(f"An Orchestration instance with the status {state} already exists."),
                "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
            )

    async def _instances(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        method = request.method
        if len(rest) == 3 and rest[1].lower() == "raiseevent" and method == "POST":
            return await self._raise_event(request, rest[0], rest[2])
        if len(rest) > 2:
            return web.Response(status=404)
        if not rest:
            if method == "GET":
                return self._list(request)
            if method == "DELETE":
                return self._purge_by(request)
            return web.Response(status=404)
        instance_id = rest[0]
        if len(rest) == 1:
            if method == "GET":
                return await self.status_response(request, instance_id)
            if method == "DELETE":
                if self.store.get_instance(instance_id) is None:
                    return web.Response(status=404)
                return web.json_response({"instancesDeleted": self.store.purge([instance_id])})
            return web.Response(status=404)
        if method != "POST":
            return web.Response(status=404)
        operation = rest[1].lower()
        if operation == "terminate":
            return self._terminate(request, instance_id)
        if operation == "restart":
            return self._restart(request, instance_id)
        if operation in ("suspend", "resume", "rewind"):
            instance = self.store.get_instance(instance_id)
            if instance is None:
                return web.Response(status=404)
            return _error(501, f"'{operation}' is not emulated by the local host.")
        return web.Response(status=404)

    async def _start(self, request: web.Request, name: str, instance_id: str | None) -> web.StreamResponse:
        body = await request.text()
        input_json: str | None = None
        if body:
            try:
                input_json = h.compact(json.loads(body))
            except ValueError as exc:
                return _error(400, "Invalid JSON content", exc, "Newtonsoft.Json.JsonReaderException")
        instance_id = self.start(name, instance_id, input_json)
        timeout = _seconds(request.query.get("timeout"))
        interval = _seconds(request.query.get("pollingInterval"))
        if timeout is not None and interval is not None:
            return await self._wait_or_check(request, instance_id, timeout, interval)
        return self.check_status_response(request, instance_id)

    def check_status_response(self, request: web.Request, instance_id: str) -> web.Response:
        """``CreateCheckStatusResponse``: 202, the management links on the request's origin, Retry-After 10."""
        urls = self._links(request, instance_id)
        body = {
            key: urls[key]
            for key in (
                "id",
                "statusQueryGetUri",
                "sendEventPostUri",
                "terminatePostUri",
                "purgeHistoryDeleteUri",
                "restartPostUri",
                "suspendPostUri",
                "resumePostUri",
            )
        }
        return web.json_response(body, status=202, headers={"Location": urls["statusQueryGetUri"], "Retry-After": "10"})

    def _links(self, request: web.Request, instance_id: str) -> dict[str, str]:
        origin = f"{request.scheme}://{request.host}"
        prefix = f"{origin}{WEBHOOK_PATH}/instances/{quote(instance_id, safe='')}"
        return _management_urls(prefix, instance_id, f"taskHub={quote(self.hub)}&connection={CONNECTION_NAME}")

    async def _wait_or_check(
        self, request: web.Request, instance_id: str, timeout: float, interval: float
    ) -> web.StreamResponse:
        deadline = time.monotonic() + timeout
        while True:
            instance = self.store.get_instance(instance_id)
            if instance is not None and instance.status in TERMINAL_STATES:
                if instance.status == "Completed":
                    return web.json_response(h.decode_json(instance.output))
                return await self.status_response(request, instance_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self.check_status_response(request, instance_id)
            await asyncio.sleep(min(interval, remaining))

    async def status_response(self, request: web.Request, instance_id: str) -> web.Response:
        """``HandleGetStatusRequestAsync``: 404 empty, 202 + Location/Retry-After 5 while running, else 200."""
        instance = self.store.get_instance(instance_id)
        if instance is None:
            return web.Response(status=404)
        query = request.query
        payload = self.status_payload(
            instance,
            show_history=_bool(query, "showHistory", False),
            show_output=_bool(query, "showHistoryOutput", False),
            show_input=_bool(query, "showInput", True),
        )
        if instance.status in ("Running", "Pending", "ContinuedAsNew", "Suspended"):
            return web.json_response(payload, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        status = (
            500 if instance.status == "Failed" and _bool(query, "returnInternalServerErrorOnFailure", False) else 200
        )
        return web.json_response(payload, status=status)

    def _list(self, request: web.Request) -> web.Response:
        query = request.query
        statuses = [s for raw in query.getall("runtimeStatus", []) for s in raw.split(",") if s in _RUNTIME_STATUSES]
        instances = self.store.query(
            Query(
                created_from=_time(query, "createdTimeFrom"),
                created_to=_time(query, "createdTimeTo"),
                statuses=statuses,
                prefix=query.get("instanceIdPrefix"),
            )
        )
        show_input = _bool(query, "showInput", True)
        offset = _decode_token(request.headers.get("x-ms-continuation-token"))
        top = _int(query.get("top"))
        page = instances[offset : offset + top] if top else instances[offset:]
        more = top is not None and offset + top < len(instances)
        token = base64.b64encode(str(offset + len(page)).encode()).decode() if more else ""
        body = [self.status_payload(i, show_history=False, show_output=False, show_input=show_input) for i in page]
        return web.json_response(body, headers={"x-ms-continuation-token": token})

    def _purge_by(self, request: web.Request) -> web.Response:
        query = request.query
        created_from = _time(query, "createdTimeFrom")
        if created_from is None:
            return web.json_response("Please provide value for 'createdTimeFrom' parameter.", status=400)
        statuses = [s for raw in query.getall("runtimeStatus", []) for s in raw.split(",") if s in _RUNTIME_STATUSES]
        matches = self.store.query(
            Query(
                created_from=created_from,
                created_to=_time(query, "createdTimeTo") or self.clock.now(),
                statuses=statuses,
            )
        )
        if not matches:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": self.store.purge([i.instance_id for i in matches])})

    def _terminate(self, request: web.Request, instance_id: str) -> web.Response:
        instance = self.store.get_instance(instance_id)
        if instance is None:
            return web.Response(status=404)
        if instance.status in TERMINAL_STATES:
            return web.Response(status=410)
        self.terminate(instance, request.query.get("reason"))
        return web.Response(status=202)

    def terminate(self, instance: Instance, reason: str | None) -> None:
        now = self.clock.now()
        self.store.send(instance.instance_id, instance.execution_id, h.stamp(h.execution_terminated(reason), now), now)
        self._wake()

    def _restart(self, request: web.Request, instance_id: str) -> web.Response:
        instance = self.store.get_instance(instance_id)
        if instance is None:
            return _error(
                400,
                "InstanceId does not match a valid orchestration instance.",
                Exception(f"An orchestrastion with the instanceId {instance_id} was not found."),
                "System.ArgumentException",
            )
        new_id = None if _bool(request.query, "restartWithNewInstanceId", True) else instance_id
        started = (
            next(e for e in self.store.history(instance_id) if e["EventType"] == h.EXECUTION_STARTED)
            if (instance.status != "Pending")
            else None
        )
        input_json = started.get("Input") if started else instance.input
        return self.check_status_response(request, self.start(instance.name, new_id, input_json))

    async def _raise_event(self, request: web.Request, instance_id: str, event_name: str) -> web.Response:
        instance = self.store.get_instance(instance_id)
        if instance is None:
            return web.Response(status=404)
        if instance.status in TERMINAL_STATES:
            return web.Response(status=410)
        if request.content_type.lower() != "application/json":
            return _error(400, "Only application/json request content is supported")
        try:
            data = h.compact(json.loads(await request.text()))
        except ValueError as exc:
            return _error(400, "Invalid JSON content", exc, "Newtonsoft.Json.JsonReaderException")
        self.raise_event(instance, event_name, data)
        return web.Response(status=202)

    def raise_event(self, instance: Instance, name: str, data_json: str | None) -> None:
        now = self.clock.now()
        self.store.send(instance.instance_id, instance.execution_id, h.stamp(h.event_raised(name, data_json), now), now)
        self._wake()


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.b64decode(token).decode())
    except ValueError:
        return 0
