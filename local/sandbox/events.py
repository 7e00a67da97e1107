"""ARM's events through Event Grid: every successful write, delete and action, to the subscribers registered.

The schema is Event Grid's for a ``Microsoft.Resources.Subscriptions`` system topic (event-grid/
event-schema-subscriptions.md): ``id``, ``topic`` (``/subscriptions/{id}``), ``subject`` (the resource id),
``eventType`` (``Microsoft.Resources.ResourceWriteSuccess`` / ``…DeleteSuccess`` / ``…ActionSuccess``),
``eventTime``, ``dataVersion`` "2", ``metadataVersion`` "1", and ``data`` with ``authorization``, ``claims``,
``correlationId``, ``httpRequest``, ``operationName``, ``resourceProvider``, ``resourceUri``, ``status``,
``subscriptionId``, ``tenantId``.

Delivery is Event Grid's webhook protocol (event-grid/webhook-event-delivery.md, delivery-and-retry.md): a
subscription is created only after its endpoint answers the ``SubscriptionValidationEvent`` with
``{"validationResponse": code}``; events are POSTed asynchronously as JSON arrays of at most
``maxEventsPerBatch`` (default 1, as in Event Grid) with ``aeg-event-type: Notification``; a 2xx is delivered,
400 and 413 are not retried, anything else is retried on Event Grid's schedule (10 s, 30 s, 1 min, 5 min,
10 min…), multiplied here by ``retry_scale``. See local/sandbox/README.md, "Events", for what differs.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .routing import Request, Response
from .throttling import principal_of, token_claims

log = logging.getLogger("local.sandbox.events")

WRITE, DELETE, ACTION = (f"Microsoft.Resources.Resource{kind}Success" for kind in ("Write", "Delete", "Action"))
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"
RETRY_SCHEDULE = (10.0, 30.0, 60.0, 300.0, 600.0)
NOT_RETRIED = frozenset({400, 413})
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
_PROVIDER = re.compile(r"/providers/(?P<ns>[^/]+)(?P<rest>(?:/[^/]+)*)$", re.IGNORECASE)
_GROUP = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+$", re.IGNORECASE)


class InvalidSubscription(ValueError):
    """The subscription could not be created (bad spec, or the endpoint failed the validation handshake)."""


@dataclass
class Subscriber:
    name: str
    endpoint: str
    max_events_per_batch: int = 1
    included_event_types: tuple[str, ...] = ()
    subject_begins_with: str = ""
    delivered: int = 0
    failed: int = 0
    queue: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    def wants(self, event: dict[str, Any]) -> bool:
        if self.included_event_types and event["eventType"] not in self.included_event_types:
            return False
        return event["subject"].lower().startswith(self.subject_begins_with.lower())

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "endpoint": self.endpoint,
            "maxEventsPerBatch": self.max_events_per_batch,
            "includedEventTypes": list(self.included_event_types),
            "subjectBeginsWith": self.subject_begins_with,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": self.queue.qsize(),
        }


def operation_of(method: str, path: str) -> tuple[str, str, str] | None:
    """``(eventType, operationName, resource id)`` for a write, delete or action; None for a read.

    ``PUT …/Microsoft.Web/sites/app/config/appsettings`` → ``Microsoft.Web/sites/config/write`` on that id;
    ``POST …/sites/app/config/appsettings/list`` → ``Microsoft.Web/sites/config/list/action`` on
    ``…/config/appsettings``; a resource group → ``Microsoft.Resources/subscriptions/resourceGroups/…``.
    """
    if method in ("GET", "HEAD", "OPTIONS"):
        return None
    found = _PROVIDER.search(path)
    if found is not None:
        segments = [s for s in found["rest"].split("/") if s]
        types, action = segments[0::2], None
        if len(segments) % 2:
            action, types = segments[-1], segments[0:-1:2]
        resource = path.rsplit("/", 1)[0] if action else path
        name = "/".join([found["ns"], *types])
    elif _GROUP.match(path):
        resource, name, action = path, "Microsoft.Resources/subscriptions/resourceGroups", None
    else:
        return None
    if method == "POST":
        return ACTION, f"{name}/{action or 'action'}/action", resource
    if method == "DELETE":
        return DELETE, f"{name}/delete", resource
    return WRITE, f"{name}/write", resource


def arm_event(req: Request, subscription_id: str, correlation_id: str) -> dict[str, Any] | None:
    operation = operation_of(req.method, req.path)
    if operation is None:
        return None
    event_type, operation_name, resource = operation
    token = req.headers.get("authorization", "").removeprefix("Bearer ").strip()
    query = "&".join(f"{k}={v}" for k, v in req.query.items())
    return {
        "id": str(uuid.uuid4()),
        "topic": f"/subscriptions/{subscription_id}",
        "subject": resource,
        "eventType": event_type,
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
        "dataVersion": "2",
        "metadataVersion": "1",
        "data": {
            "authorization": {
                "scope": resource,
                "action": operation_name,
                "evidence": {
                    "role": "Contributor",
                    "principalId": principal_of(req),
                    "principalType": "ServicePrincipal",
                },
            },
            "claims": token_claims(token),
            "correlationId": correlation_id,
            "httpRequest": {
                "clientRequestId": req.headers.get("x-ms-client-request-id", ""),
                "clientIpAddress": "127.0.0.1",
                "method": req.method,
                "url": f"{req.base_url}{req.path}" + (f"?{query}" if query else ""),
            },
            "resourceProvider": operation_name.split("/", 1)[0],
            "resourceUri": resource,
            "operationName": operation_name,
            "status": "Succeeded",
            "subscriptionId": subscription_id,
            "tenantId": TENANT_ID,
        },
    }


class EventGrid:
    """The subscriptions of the subscription's system topic, and one delivery thread per subscriber."""

    def __init__(self, subscription_id: str = "", retry_scale: float = 0.1, batch_window: float = 0.05) -> None:
        self.subscription_id = subscription_id
        self.retry_scale = retry_scale
        self.batch_window = batch_window
        self._lock = threading.Lock()
        self._subscribers: dict[str, Subscriber] = {}
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)

    # --- the control API ----------------------------------------------------------------------------

    def subscribe(self, spec: Any) -> Subscriber:
        """Create (or replace) a subscription once its endpoint passes the validation handshake."""
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            raise InvalidSubscription("a subscription needs a 'name'")
        endpoint = spec.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise InvalidSubscription("'endpoint' must be an http(s) URL")
        batch = spec.get("maxEventsPerBatch", 1)
        if not isinstance(batch, int) or not 1 <= batch <= 5000:
            raise InvalidSubscription("'maxEventsPerBatch' is a whole number from 1 to 5000")
        types = spec.get("includedEventTypes") or []
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise InvalidSubscription("'includedEventTypes' is a list of event types")
        subscriber = Subscriber(spec["name"], endpoint, batch, tuple(types), str(spec.get("subjectBeginsWith") or ""))
        self._validate(subscriber)
        with self._lock:
            previous = self._subscribers.get(subscriber.name)
            if previous is not None:
                subscriber.queue = previous.queue  # pending events stay with the subscription
            self._subscribers[subscriber.name] = subscriber
            if previous is None:
                thread = threading.Thread(
                    target=self._deliver, args=(subscriber.name,), name=f"eventgrid-{subscriber.name}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return subscriber

    def unsubscribe(self, name: str) -> bool:
        with self._lock:
            return self._subscribers.pop(name, None) is not None

    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.to_json() for s in self._subscribers.values()]

    # --- publishing ---------------------------------------------------------------------------------

    def publish(self, req: Request, response: Response, correlation_id: str, *, injected: bool = False) -> None:
        """The one call the front door makes per answered ARM request: a successful change becomes an event
        (an injected fault's answer is not the resource provider's, so it never does)."""
        if injected or not 200 <= response.status < 300:
            return
        with self._lock:
            subscribers = list(self._subscribers.values())
        if not subscribers:
            return
        event = arm_event(req, self.subscription_id, correlation_id)
        if event is None:
            return
        for subscriber in subscribers:
            if subscriber.wants(event):
                subscriber.queue.put(event)

    # --- delivery -----------------------------------------------------------------------------------

    def _validate(self, subscriber: Subscriber) -> None:
        import requests

        code = str(uuid.uuid4())
        event = {
            "id": str(uuid.uuid4()),
            "topic": f"/subscriptions/{self.subscription_id}",
            "subject": "",
            "data": {"validationCode": code, "validationUrl": None},
            "eventType": VALIDATION_EVENT,
            "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
            "metadataVersion": "1",
            "dataVersion": "1",
        }
        headers = {"aeg-event-type": "SubscriptionValidation", "aeg-subscription-name": subscriber.name.upper()}
        try:
            answer = requests.post(subscriber.endpoint, json=[event], headers=headers, timeout=30)
            returned = answer.json().get("validationResponse") if answer.status_code == 200 else None
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise InvalidSubscription(f"Webhook validation handshake failed for {subscriber.endpoint}: {exc}") from exc
        if returned != code:
            raise InvalidSubscription(
                f"Webhook validation handshake failed for {subscriber.endpoint}. "
                f"Http POST request returned {answer.status_code} without the validation code in validationResponse."
            )

    def _deliver(self, name: str) -> None:
        import requests

        session = requests.Session()
        while not self._stopping.is_set():
            with self._lock:
                subscriber = self._subscribers.get(name)
            if subscriber is None:
                return
            try:
                batch = [subscriber.queue.get(timeout=0.2)]
            except queue.Empty:
                continue
            deadline = time.monotonic() + self.batch_window
            while len(batch) < subscriber.max_events_per_batch and time.monotonic() < deadline:
                try:
                    batch.append(subscriber.queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            self._send(session, subscriber, batch)

    def _send(self, session: Any, subscriber: Subscriber, batch: list[dict[str, Any]]) -> None:
        import requests

        for attempt, delay in enumerate((0.0, *RETRY_SCHEDULE)):
            if delay and self._stopping.wait(delay * self.retry_scale):
                return
            headers = {
                "aeg-event-type": "Notification",
                "aeg-subscription-name": subscriber.name.upper(),
                "aeg-delivery-count": str(attempt),
                "aeg-data-version": "2",
                "aeg-metadata-version": "1",
            }
            try:
                status = session.post(subscriber.endpoint, json=batch, headers=headers, timeout=30).status_code
            except requests.RequestException as exc:
                log.warning("event delivery to %s failed: %s", subscriber.name, exc)
                continue
            if 200 <= status < 300:
                subscriber.delivered += len(batch)
                return
            if status in NOT_RETRIED:
                break
            log.warning("event delivery to %s answered %s; retrying", subscriber.name, status)
        subscriber.failed += len(batch)
