"""ARM's events from the sandbox: the validation handshake, the schema, batches, retries, what publishes nothing.

The schema and the delivery protocol, with their sources, are in local/sandbox/events.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web.models import StringDictionary

from local.sandbox import Settings
from local.sandbox.events import operation_of

from .conftest import SUB, Control, arm, rid

APP = rid("apps-rg", "Microsoft.Web", "sites", "kubelink-demo")


class Receiver:
    """A webhook that answers the handshake and records every delivery (headers and body)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], Any]] = []
        self.fail_next = 0
        self.answer_validation = True
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.deliveries.append((headers, body))
                if headers["aeg-event-type"] == "SubscriptionValidation":
                    code = body[0]["data"]["validationCode"] if receiver.answer_validation else "wrong"
                    payload = json.dumps({"validationResponse": code}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                status = 500 if receiver.fail_next else 202
                receiver.fail_next = max(0, receiver.fail_next - 1)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notifications(self) -> list[tuple[dict[str, str], list[dict[str, Any]]]]:
        return [(h, b) for h, b in self.deliveries if h["aeg-event-type"] == "Notification"]

    def events(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = [e for _, batch in self.notifications() for e in batch]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


@pytest.fixture
def settings() -> Settings:
    return Settings(
        lro_seconds=0.2, gateway_seconds=1.0, ilb_delay_seconds=0.2, event_retry_scale=0.05
    )  # first retry after 0.5 s


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiving = Receiver()
    yield receiving
    receiving.server.shutdown()


def subscribe(control: Control, receiver: Receiver, **extra: Any) -> Any:
    return control.http.post(
        f"{control.base}/_sandbox/eventSubscriptions", json={"name": "test", "endpoint": receiver.url, **extra}
    )


def test_a_write_by_anyone_becomes_a_resource_write_success_event(
    control: Control, receiver: Receiver, web: WebSiteManagementClient
) -> None:
    assert subscribe(control, receiver).status_code == 201
    (validation,) = [(h, b) for h, b in receiver.deliveries if h["aeg-event-type"] == "SubscriptionValidation"]
    assert validation[1][0]["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent"
    web.web_apps.get("apps-rg", "kubelink-demo")  # a read: no event
    web.web_apps.update_application_settings("apps-rg", "kubelink-demo", StringDictionary(properties={"A": "1"}))
    (event,) = receiver.events(1)
    assert event["eventType"] == "Microsoft.Resources.ResourceWriteSuccess"
    assert event["subject"] == f"{APP}/config/appsettings" and event["topic"] == f"/subscriptions/{SUB}"
    assert (event["dataVersion"], event["metadataVersion"]) == ("2", "1") and event["id"] and event["eventTime"]
    data = event["data"]
    assert data["operationName"] == "Microsoft.Web/sites/config/write" and data["status"] == "Succeeded"
    assert data["resourceUri"] == event["subject"] and data["resourceProvider"] == "Microsoft.Web"
    assert data["httpRequest"]["method"] == "PUT" and data["subscriptionId"] == SUB
    assert data["correlationId"] and data["authorization"]["action"] == "Microsoft.Web/sites/config/write"
    headers, _ = receiver.notifications()[0]
    assert headers["aeg-subscription-name"] == "TEST" and headers["aeg-delivery-count"] == "0"


def test_actions_and_deletes_publish_but_failures_do_not(control: Control, receiver: Receiver) -> None:
    subscribe(control, receiver, maxEventsPerBatch=10)
    listed = arm(control_sandbox(control), "POST", f"{APP}/config/appsettings/list", params={"api-version": "1"})
    assert listed.status_code == 200
    missing = arm(
        control_sandbox(control),
        "PUT",
        f"{APP}x/config/appsettings",
        params={"api-version": "1"},
        json={"properties": {}},
    )
    assert missing.status_code == 404
    arm(
        control_sandbox(control),
        "DELETE",
        rid("spare-rg", "Microsoft.Network", "publicIPAddresses", "gone"),
        params={"api-version": "1"},
    )
    events = receiver.events(2)
    time.sleep(0.2)
    assert [e["data"]["operationName"] for e in receiver.events(2)] == [
        "Microsoft.Web/sites/config/list/action",
        "Microsoft.Network/publicIPAddresses/delete",
    ]
    assert events[0]["eventType"] == "Microsoft.Resources.ResourceActionSuccess"
    assert events[0]["subject"] == f"{APP}/config/appsettings"
    assert events[1]["eventType"] == "Microsoft.Resources.ResourceDeleteSuccess"


def test_batches_filters_and_redelivery(control: Control, receiver: Receiver) -> None:
    subscribe(control, receiver, maxEventsPerBatch=5, subjectBeginsWith=APP.upper())
    receiver.fail_next = 1
    for value in range(4):
        arm(
            control_sandbox(control),
            "PUT",
            f"{APP}/config/appsettings",
            params={"api-version": "1"},
            json={"properties": {"A": str(value)}},
        )
    arm(
        control_sandbox(control),
        "PUT",
        rid("spare-rg", "Microsoft.Network", "publicIPAddresses", "other"),
        params={"api-version": "2024-05-01"},
        json={"location": "westeurope"},
    )  # filtered out by subject
    deadline = time.monotonic() + 10
    while subscriptions(control)[0]["delivered"] < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert subscriptions(control)[0]["delivered"] == 4 and subscriptions(control)[0]["failed"] == 0
    notifications = receiver.notifications()
    assert notifications[0][0]["aeg-delivery-count"] == "0" and notifications[1][0]["aeg-delivery-count"] == "1"
    assert notifications[0][1] == notifications[1][1]  # the failed batch, delivered again as it was
    # every event once (the failed batch apart), none in a batch above maxEventsPerBatch; how the rest split
    # into batches depends on how many PUTs the 1 s retry overlapped, which a loaded machine changes
    ids = [e["id"] for _, batch in [notifications[0], *notifications[2:]] for e in batch]
    assert len(ids) == len(set(ids)) == 4
    assert all(len(batch) <= 5 for _, batch in notifications)
    assert all(e["subject"].startswith(APP) for _, batch in notifications for e in batch)


def subscriptions(control: Control) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = control.http.get(f"{control.base}/_sandbox/eventSubscriptions").json()["value"]
    return listed


def test_an_endpoint_failing_the_handshake_gets_no_subscription(control: Control, receiver: Receiver) -> None:
    receiver.answer_validation = False
    refused = subscribe(control, receiver)
    assert refused.status_code == 400 and "validation handshake failed" in refused.json()["error"]["message"]
    assert control.http.get(f"{control.base}/_sandbox/eventSubscriptions").json()["value"] == []


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", f"{APP}", None),
        ("PUT", f"{APP}", ("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Web/sites/write", APP)),
        (
            "PUT",
            rid("kube-rg", "Microsoft.Network", "virtualNetworks", "v", "subnets", "s"),
            (
                "Microsoft.Resources.ResourceWriteSuccess",
                "Microsoft.Network/virtualNetworks/subnets/write",
                rid("kube-rg", "Microsoft.Network", "virtualNetworks", "v", "subnets", "s"),
            ),
        ),
        (
            "POST",
            rid("kube-rg", "Microsoft.Network", "virtualNetworkGateways", "g", "generatevpnclientpackage"),
            (
                "Microsoft.Resources.ResourceActionSuccess",
                "Microsoft.Network/virtualNetworkGateways/generatevpnclientpackage/action",
                rid("kube-rg", "Microsoft.Network", "virtualNetworkGateways", "g"),
            ),
        ),
        (
            "DELETE",
            f"/subscriptions/{SUB}/resourceGroups/spare-rg",
            (
                "Microsoft.Resources.ResourceDeleteSuccess",
                "Microsoft.Resources/subscriptions/resourceGroups/delete",
                f"/subscriptions/{SUB}/resourceGroups/spare-rg",
            ),
        ),
    ],
)
def test_operation_names(method: str, path: str, expected: tuple[str, str, str] | None) -> None:
    assert operation_of(method, path) == expected


def control_sandbox(control: Control) -> Any:
    """``arm`` wants the sandbox; the control client knows its URL and CA."""

    class Where:
        arm_url = control.base
        ca_bundle = control.http.verify

    return Where()
