"""Pacing on ARM's throttling headers (adapters/pacing.py), with a fake clock: no real waiting."""

from __future__ import annotations

from adapters.pacing import Pacer, bucket_floor

ARM = "https://management.azure.com/subscriptions/s/resourceGroups/rg"
OTHER = "https://management.usgovcloudapi.net/subscriptions/s"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def pacer(clock: FakeTime, reserve: int = 2) -> Pacer:
    return Pacer(reserve=reserve, clock=lambda: clock.now, sleep=clock.sleep)


def test_requests_go_at_once_while_arm_reports_room_then_at_the_refill_rate() -> None:
    clock = FakeTime()
    paced = pacer(clock)
    paced.after("GET", ARM, 200, {"x-ms-ratelimit-remaining-subscription-reads": "100"})
    for _ in range(3):
        paced.before("GET", ARM)
    assert clock.slept == []
    paced.after("GET", ARM, 200, {"x-ms-ratelimit-remaining-subscription-reads": "2"})
    for _ in range(3):
        paced.before("GET", ARM)
    assert clock.slept == [0.04, 0.04]  # reads refill 25 per second
    paced.after("POST", ARM, 200, {"x-ms-ratelimit-remaining-subscription-writes": "1"})
    paced.before("POST", ARM)
    paced.before("POST", ARM)
    assert clock.slept[-1] == 0.1  # writes, POST actions included, refill 10 per second


def test_retry_after_holds_that_kind_on_that_arm_only() -> None:
    clock = FakeTime()
    paced = pacer(clock)
    paced.after("GET", ARM, 429, {"Retry-After": "3"})
    paced.before("DELETE", ARM)
    paced.before("GET", OTHER)
    assert clock.slept == []
    paced.before("GET", ARM)
    assert clock.slept == [3.0]


def test_a_hold_longer_than_max_wait_is_left_to_a_durable_timer() -> None:
    clock = FakeTime()
    paced = pacer(clock)
    paced.after("GET", ARM, 429, {"Retry-After": "120"})
    paced.before("GET", ARM)
    assert clock.slept == []


def test_the_floor_of_a_request_mix() -> None:
    assert bucket_floor({"reads": 250, "writes": 200}) == 0
    assert bucket_floor({"reads": 2250, "writes": 1000}) == 80.0  # writes: (1000 - 200) / 10
    assert bucket_floor({"reads": 30}, scale=0.04) == 20.0  # (30 - 10) / 1
