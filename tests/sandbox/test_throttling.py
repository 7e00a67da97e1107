"""ARM's throttling in the sandbox: token buckets per principal, remaining-requests headers, 429 + Retry-After.

The rules and their sources are in local/sandbox/throttling.py and local/sandbox/README.md ("Throttling").
"""

from __future__ import annotations

import functools

import pytest
from azure.mgmt.network import NetworkManagementClient

from local.sandbox import SandboxServer, Settings
from local.sandbox.routing import Request, Response
from local.sandbox.throttling import Throttling

from .builders import RG, VNET
from .conftest import SUB, Control, arm, rid, token

VNET_PATH = rid(RG, "Microsoft.Network", "virtualNetworks", VNET)
SETTINGS_LIST = rid("apps-rg", "Microsoft.Web", "sites", "kubelink-demo") + "/config/appsettings/list"


@pytest.fixture
def settings() -> Settings:
    # reads: 10 burst, +1/s; writes and deletes: 8 burst, +0.4/s
    return Settings(lro_seconds=0.2, gateway_seconds=1.0, ilb_delay_seconds=0.2, throttle_scale=0.04)


@functools.cache
def _bearer(sandbox: SandboxServer, principal: str) -> str:
    """One token per principal and sandbox: fetching one per request would give the buckets time to refill."""
    return f"Bearer {token(sandbox, principal)}"


def _get(sandbox: SandboxServer, principal: str = "admin") -> tuple[int, dict[str, str], dict[str, object]]:
    headers = {"Authorization": _bearer(sandbox, principal)}
    answer = arm(sandbox, "GET", VNET_PATH, token=None, headers=headers, params={"api-version": "2024-05-01"})
    return answer.status_code, dict(answer.headers), answer.json()


def _drain(sandbox: SandboxServer) -> tuple[list[int], tuple[int, dict[str, str], dict[str, object]]]:
    """Reads until the admin's read bucket answers 429: the remaining counts on the way, and the 429. (Reading
    until the 429 rather than a fixed ten times: on a loaded machine the bucket refills a token meanwhile.)"""
    remaining: list[int] = []
    for _ in range(30):
        answer = _get(sandbox)
        if answer[0] == 429:
            return remaining, answer
        remaining.append(int(answer[1]["x-ms-ratelimit-remaining-subscription-reads"]))
    raise AssertionError(f"no 429 after 30 reads: {remaining}")


def test_reads_count_down_then_429_with_retry_after_and_arms_body(sandbox: SandboxServer) -> None:
    remaining, (status, headers, body) = _drain(sandbox)
    assert remaining[0] == 9 and remaining[-1] == 0 and remaining == sorted(remaining, reverse=True)
    assert status == 429 and int(headers["Retry-After"]) >= 1
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "SubscriptionRequestsThrottled"
    assert f"Number of 'read' requests for subscription '{SUB}'" in str(error["message"])
    assert "https://aka.ms/arm-throttling" in str(error["message"])
    assert _get(sandbox, "kubelink")[0] == 200  # buckets are per principal (kubelink may read kube-rg)


def test_post_actions_take_from_the_write_bucket_and_deletes_from_their_own(sandbox: SandboxServer) -> None:
    listed = arm(sandbox, "POST", SETTINGS_LIST, params={"api-version": "2024-04-01"})
    assert listed.status_code == 200
    assert listed.headers["x-ms-ratelimit-remaining-subscription-writes"] == "7"
    assert "x-ms-ratelimit-remaining-subscription-reads" not in listed.headers
    gone = arm(
        sandbox,
        "DELETE",
        rid("spare-rg", "Microsoft.Network", "publicIPAddresses", "nope"),
        params={"api-version": "2024-05-01"},
    )
    assert gone.headers["x-ms-ratelimit-remaining-subscription-deletes"] == "7"


def test_the_sdk_honours_retry_after_and_gets_through(
    sandbox: SandboxServer, control: Control, net: NetworkManagementClient
) -> None:
    # a new scale starts every bucket full: 3 reads, then +0.3 per second, so the SDK's read comes well within the
    # 3.3 s before a token is back, however loaded the machine
    assert control.http.put(f"{control.base}/_sandbox/throttling", json={"scale": 0.012}).ok
    for _ in range(3):
        assert _get(sandbox)[0] == 200  # the SDK fixtures' principal
    control.clear_requests()
    assert net.virtual_networks.get(RG, VNET).name == VNET
    log = control.requests()
    assert [e["status"] for e in log][-1] == 200 and 429 in [e["status"] for e in log]
    throttled = next(e for e in log if e["status"] == 429)
    assert log[-1]["time"] - throttled["time"] >= 0.9  # waited the Retry-After (1 s) before trying again


def test_scale_can_change_at_runtime_and_zero_turns_it_off(sandbox: SandboxServer, control: Control) -> None:
    for _ in range(11):
        _get(sandbox)
    assert control.http.put(f"{control.base}/_sandbox/throttling", json={"scale": 0}).json()["scale"] == 0
    status, headers, _ = _get(sandbox)
    assert status == 200 and "x-ms-ratelimit-remaining-subscription-reads" not in headers
    assert control.http.put(f"{control.base}/_sandbox/throttling", json={"scale": -1}).status_code == 400


def test_private_dns_allows_500_reads_per_5_minutes() -> None:
    clock = [0.0]
    throttling = Throttling(1.0, clock=lambda: clock[0])
    path = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/privateDnsZones/z.internal"
    request = Request("GET", path, {}, {"authorization": "Bearer t"}, None, "https://x")
    answered = 0
    while (answer := throttling.guard(request, SUB, lambda: (Response(200), False))[0]).status == 200:
        answered += 1
        clock[0] += 0.045  # 22 reads a second: ARM's read bucket (25/s) never empties, so only DNS's limit bites
    # 500 at once, then 500 per 300 s: 540 in the 24 s this took
    assert answered == 500 + int(clock[0] * 500 / 300)
    assert answer.status == 429 and int(answer.headers["x-ms-ratelimit-remaining-subscription-reads"]) > 200
