"""ARM's throttling: token buckets per principal, the remaining-requests headers, and 429 with Retry-After.

Sources (local/sandbox/README.md, "Throttling", cites them in full):

- learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling: buckets per
  subscription, principal and region; reads 250 burst refilled 25/s, writes 200 refilled 10/s, deletes 200
  refilled 10/s; every answer carries ``x-ms-ratelimit-remaining-subscription-reads`` (``-writes``,
  ``-deletes``); an empty bucket answers 429 with ``Retry-After``.
- POST actions count against the write bucket (Azure/azure-rest-api-specs#6363, Azure/azure-sdk-for-java#1389).
- The 429 body: ``SubscriptionRequestsThrottled``, "Number of 'read' requests for subscription '…' actor '…'
  exceeded. Please try again after '1' seconds after additional tokens are available. Refer to
  https://aka.ms/arm-throttling for additional information." (as recorded in velero-io/velero#9171).
- Private DNS: 500 GETs per 5 minutes per subscription (the same request-limits page, "Network throttling");
  modelled as one more bucket of 500 refilled at 500/300 s.

``scale`` multiplies every capacity and refill rate (0 turns throttling off: the default, so suites that
do not study throttling are never slowed by it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .routing import Request, Response, json_response

#: POST actions that ARM still counts as reads are not on record: every POST is a write (see module doc)
_DELETE, _WRITE, _READ = "deletes", "writes", "reads"


@dataclass(frozen=True)
class Rule:
    capacity: float
    per_second: float


RULES = {_READ: Rule(250, 25), _WRITE: Rule(200, 10), _DELETE: Rule(200, 10)}
PRIVATE_DNS_READS = Rule(500, 500 / 300)


class Bucket:
    def __init__(self, rule: Rule, scale: float, now: float) -> None:
        self.capacity = max(1.0, rule.capacity * scale)
        self.per_second = rule.per_second * scale
        self.tokens = self.capacity
        self.stamp = now

    def take(self, now: float) -> float:
        """Take a token; 0 when taken, else the seconds until one is there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


def request_kind(method: str) -> str:
    if method in ("GET", "HEAD"):
        return _READ
    return _DELETE if method == "DELETE" else _WRITE


def principal_of(req: Request) -> str:
    """The actor ARM names in its 429s: the token's ``oid`` (or ``appid``/``sub``); an opaque token is its hash."""
    token = req.headers.get("authorization", "").removeprefix("Bearer ").strip()
    claims = token_claims(token)
    for claim in ("oid", "appid", "sub"):
        if isinstance(claims.get(claim), str):
            return str(claims[claim])
    return "token-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def token_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (the token service has checked it already); {} for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


class Throttling:
    """The buckets of every principal; ``guard`` is the one call the front door makes per ARM request."""

    def __init__(self, scale: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self.scale = scale
        self.throttled = 0

    def configure(self, scale: float) -> None:
        """A new scale starts every bucket full."""
        with self._lock:
            self.scale = scale
            self._buckets.clear()
            self.throttled = 0

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"scale": self.scale, "throttled": self.throttled}

    def guard(
        self, req: Request, subscription_id: str, answer: Callable[[], tuple[Response, bool]]
    ) -> tuple[Response, bool]:
        """Answer the request when its buckets have a token (429 otherwise), with the remaining-requests header.
        ``answer`` returns the response and whether an injected fault gave it (passed through)."""
        if self.scale <= 0:
            return answer()
        kind = request_kind(req.method)
        principal = principal_of(req)
        with self._lock:
            now = self._clock()
            wait = self._bucket(principal, kind, RULES[kind], now).take(now)
            if not wait and kind == _READ and "/providers/microsoft.network/privatednszones" in req.path.lower():
                wait = self._bucket(principal, "privateDnsReads", PRIVATE_DNS_READS, now).take(now)
            remaining = math.floor(self._buckets[(principal, kind)].tokens)
            if wait:
                self.throttled += 1
        header = {f"x-ms-ratelimit-remaining-subscription-{kind}": str(max(0, remaining))}
        if wait:
            seconds = max(1, math.ceil(wait))
            message = (
                f"Number of '{kind[:-1]}' requests for subscription '{subscription_id}' actor '{principal}' exceeded. "
                f"Please try again after '{seconds}' seconds after additional tokens are available. "
                "Refer to https://aka.ms/arm-throttling for additional information."
            )
            body = {"error": {"code": "SubscriptionRequestsThrottled", "message": message}}
            return json_response(429, body, {"Retry-After": str(seconds), **header}), False
        response, injected = answer()
        response.headers.update(header)
        return response, injected

    def _bucket(self, principal: str, kind: str, rule: Rule, now: float) -> Bucket:
        key = (principal, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(rule, self.scale, now)
        return bucket
