"""The test-facing control API's state: the ARM request log and injected faults."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .routing import Response, json_response

_DEFAULT_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "NotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass
class Fault:
    """One rule of ``POST /_sandbox/faults``: an injected response, an LRO outcome, or an LRO duration."""

    pattern: re.Pattern[str]
    method: str | None
    times: int | None  # None: until the faults are cleared
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    lro_outcome: str | None = None
    code: str = ""
    message: str = ""
    lro_seconds: float | None = None
    spec: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.pattern.search(path) is not None


def parse_fault(spec: dict[str, Any]) -> Fault:
    """Validate a fault spec (``ValueError`` with a readable reason)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("pathPattern"), str):
        raise ValueError("a fault needs a string 'pathPattern' (a regex on the request path)")
    try:
        pattern = re.compile(spec["pathPattern"], re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"pathPattern is not a valid regex: {exc}") from exc
    method = spec.get("method")
    kinds = [k for k in ("status", "lroOutcome", "lroSeconds") if k in spec]
    if len(kinds) != 1:
        raise ValueError("a fault has exactly one of 'status', 'lroOutcome', 'lroSeconds'")
    times = spec.get("times", None if "lroSeconds" in spec else 1)
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ValueError("'times' is a positive integer, or null for every matching request")
    fault = Fault(pattern, method.upper() if isinstance(method, str) else None, times, spec=spec)
    if "status" in spec:
        if not isinstance(spec["status"], int) or not 200 <= spec["status"] <= 599:
            raise ValueError("'status' is an HTTP status code")
        fault.status = spec["status"]
        fault.headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
        fault.body = spec.get("body")
    elif "lroOutcome" in spec:
        if spec["lroOutcome"] != "Failed":
            raise ValueError("'lroOutcome' can only be 'Failed'")
        fault.lro_outcome = "Failed"
        fault.code = str(spec.get("code", "InternalServerError"))
        fault.message = str(spec.get("message", "An error occurred."))
    else:
        if not isinstance(spec["lroSeconds"], int | float) or spec["lroSeconds"] < 0:
            raise ValueError("'lroSeconds' is a non-negative number")
        fault.lro_seconds = float(spec["lroSeconds"])
    return fault


class Faults:
    """Injected faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def specs(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**f.spec, "remaining": f.times} for f in self._faults]

    def _take(self, method: str, path: str, kind: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if getattr(fault, kind) is None or not fault.matches(method, path):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                return fault
        return None

    def response_for(self, method: str, path: str) -> Response | None:
        fault = self._take(method, path, "status")
        if fault is None or fault.status is None:
            return None
        headers = dict(fault.headers)
        if fault.status == 429 and not any(h.lower() == "retry-after" for h in headers):
            headers["Retry-After"] = "1"
        if fault.body is None and fault.status >= 400:
            code = _DEFAULT_CODES.get(fault.status, "InjectedFault")
            return json_response(
                fault.status, {"error": {"code": code, "message": f"Injected {fault.status}."}}, headers
            )
        if isinstance(fault.body, str):
            return Response(fault.status, fault.body.encode(), headers)
        content = b"" if fault.body is None else json.dumps(fault.body).encode()
        if content:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return Response(fault.status, content, headers)

    def lro_failure_for(self, method: str, path: str) -> tuple[str, str] | None:
        fault = self._take(method, path, "lro_outcome")
        return None if fault is None else (fault.code, fault.message)

    def lro_seconds_for(self, method: str, path: str) -> float | None:
        with self._lock:
            found = [f.lro_seconds for f in self._faults if f.lro_seconds is not None and f.matches(method, path)]
        return found[-1] if found else None


class RequestLog:
    """Every ARM request the sandbox answered (control-API calls excluded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)
