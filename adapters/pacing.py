"""Pacing ARM requests to ARM's token buckets, from what ARM says about them.

ARM throttles each principal with token buckets (reads 250 burst refilled 25/s; writes, POST actions
included, 200 refilled 10/s; deletes 200 refilled 10/s) and tells how many requests remain in
``x-ms-ratelimit-remaining-subscription-reads`` / ``-writes`` / ``-deletes`` (README "Throttling" cites the
sources). One ``Pacer`` per process (one principal) sits in every ARM client's pipeline: while ARM reports
more than ``reserve`` remaining, requests go at once; below it they are spaced at the bucket's refill rate,
so the bucket never empties; a 429's ``Retry-After`` holds every request of that kind until it has passed.
Buckets are kept per ARM host (a sovereign cloud is another ARM). A hold longer than ``max_wait`` is not
waited out in-process: the request goes, and its 429 surfaces for a durable timer (activities never block
for long).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

REFILL_PER_SECOND = {"reads": 25.0, "writes": 10.0, "deletes": 10.0}
BURST = {"reads": 250, "writes": 200, "deletes": 200}
REMAINING_HEADER = "x-ms-ratelimit-remaining-subscription-"


def request_kind(method: str) -> str:
    if method.upper() in ("GET", "HEAD"):
        return "reads"
    return "deletes" if method.upper() == "DELETE" else "writes"


def bucket_floor(counts: Mapping[str, int], scale: float = 1.0) -> float:
    """The least time ARM's buckets (times ``scale``) allow for ``counts`` requests of each kind, starting full."""
    return max(
        (max(0.0, n - BURST[k] * scale) / (REFILL_PER_SECOND[k] * scale) for k, n in counts.items()), default=0.0
    )


class Pacer:
    def __init__(
        self,
        reserve: int = 20,
        max_wait: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.reserve = reserve
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._remaining: dict[tuple[str, str], int] = {}
        self._next_slot: dict[tuple[str, str], float] = {}
        self._held_until: dict[tuple[str, str], float] = {}
        self.waited = 0.0
        self.throttled = 0

    def before(self, method: str, url: str) -> None:
        """Wait, if need be, before sending a request."""
        kind = _bucket(method, url)
        with self._lock:
            now = self._clock()
            start = max(now, self._held_until.get(kind, 0.0))
            remaining = self._remaining.get(kind)
            if remaining is not None and remaining <= self.reserve:
                start = max(start, self._next_slot.get(kind, 0.0))
                self._next_slot[kind] = start + 1 / REFILL_PER_SECOND[kind[1]]
            elif remaining is not None:
                self._remaining[kind] = remaining - 1  # in flight: the next answer will say
            wait = start - now
            if wait > self.max_wait:
                return
            self.waited += max(0.0, wait)
        if wait > 0:
            self._sleep(wait)

    def after(self, method: str, url: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer: the remaining count, and a 429's ``Retry-After``."""
        kind = _bucket(method, url)
        lowered = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            value = lowered.get(REMAINING_HEADER + kind[1])
            if value is not None and value.strip().isdigit():
                self._remaining[kind] = int(value)
            if status == 429:
                self.throttled += 1
                retry_after = lowered.get("retry-after", "")
                seconds = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 1.0
                self._held_until[kind] = max(self._held_until.get(kind, 0.0), self._clock() + seconds)
                self._remaining[kind] = 0


def _bucket(method: str, url: str) -> tuple[str, str]:
    return urlsplit(url).netloc.lower(), request_kind(method)
