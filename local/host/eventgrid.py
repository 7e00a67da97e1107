"""The Event Grid trigger's webhook, as the Functions host's Event Grid extension serves it.

``POST /runtime/webhooks/eventgrid?functionName={name}`` (functions-bindings-event-grid-trigger.md). What it
answers follows the extension's ``ProcessAsync`` (Azure/azure-functions-eventgrid-extension,
src/EventGridExtension/EventGridExtensionConfigProvider.cs): an unknown ``functionName`` is 404 "cannot find
function"; ``aeg-event-type: SubscriptionValidation`` is the handshake, 200 ``{"validationResponse": code}`` from
the first event's ``data.validationCode``; ``Notification`` invokes the function once per event of the array (a
single object is one CloudEvent), all at once, and answers 202, or 500 when any invocation failed (so Event
Grid redelivers the whole batch); ``Unsubscribe`` is 202; any other value of the header is 400.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

from local.host.functions import EVENT_GRID_TRIGGER, FunctionInfo

EVENTGRID_PATH = "/runtime/webhooks/eventgrid"

Invoke = Callable[[FunctionInfo, dict[str, Any]], Awaitable[Any]]


async def handle(request: web.Request, functions: dict[str, FunctionInfo], invoke: Invoke) -> web.Response:
    name = request.query.get("functionName", "")
    info = functions.get(name)
    if info is None or info.trigger_type != EVENT_GRID_TRIGGER:
        return web.Response(status=404, text=f"cannot find function: '{name}'")
    kind = request.headers.get("aeg-event-type", "").lower()
    if kind == "subscriptionvalidation":
        events = json.loads(await request.text())
        code = events[0]["data"]["validationCode"]
        return web.Response(status=200, text=json.dumps({"validationResponse": code}))
    if kind == "notification":
        body = json.loads(await request.text())
        events = body if isinstance(body, list) else [body]
        results = await asyncio.gather(*(_invoke(info, event, invoke) for event in events), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            return web.Response(status=500, text=str(failures[0]))
        return web.Response(status=202)
    if kind == "unsubscribe":
        return web.Response(status=202)
    return web.Response(status=400)


async def _invoke(info: FunctionInfo, event: dict[str, Any], invoke: Invoke) -> Any:
    """The worker's ``EventGridEventInConverter.decode`` of one event, as the host sends it (JSON)."""
    decoded = EventGridEventInConverter.decode(meta.Datum(type="json", value=json.dumps(event)), trigger_metadata=None)
    return await invoke(info, {info.trigger["name"]: decoded})
