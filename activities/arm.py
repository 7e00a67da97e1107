"""ARM reads and writes shared by the activity modules.

Reads turn 404 into absence and SDK models into REST JSON (what the pure ``kubelink.desired`` code takes).
Long writes are *started*, never awaited: the PUT goes out with ``polling=False`` and the activity returns
ARM's first ``provisioningState`` and the operation's status URL; the orchestrator polls between durable
timers, and the URL is how a failed operation's own error code and message are found afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from adapters import settings
from kubelink.desired import dig


def read(get: Callable[..., Any], *args: str) -> dict[str, Any] | None:
    """``get(*args)`` as REST JSON, or None when ARM answers 404."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        found = get(*args)
    except ResourceNotFoundError:
        return None
    return dict(found.as_dict())


def start(begin: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Send a long-running write and return at once with ``provisioningState`` and ``operation`` (status URL).

    Both come from ARM's first answer as received, not from the SDK's model of it: private DNS answers 202
    without a body, which the SDK cannot deserialize."""
    answers: list[Any] = []
    begin(*args, polling=False, raw_response_hook=lambda pipeline: answers.append(pipeline.http_response))
    first = answers[-1]  # the last attempt's, after any retry
    state = dig(_json(first), "properties", "provisioningState")
    return {"provisioningState": state or "Updating", "operation": first.headers.get("Azure-AsyncOperation")}


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:  # an empty or non-JSON body
        return None


def operation_error(client: Any, operation: str | None) -> dict[str, str] | None:
    """The ``error`` of a finished operation (``{code, message}``), read from its status URL."""
    if not operation or not on_arm_endpoint(operation):
        return None
    from azure.core.rest import HttpRequest

    response = client.send_request(HttpRequest("GET", operation))
    if response.status_code != 200:
        return None
    error = dig(response.json(), "error")
    if not isinstance(error, dict) or not error.get("code"):
        return None
    return {"code": str(error["code"]), "message": str(error.get("message") or "")}


def wait_accepted(client: Any, location: str, timeout: float) -> bool:
    """Poll a 202's ``Location`` until it answers something else (an error raises); False on timeout."""
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest

    if not on_arm_endpoint(location):
        raise ValueError(f"refusing to follow a Location outside the ARM endpoint: {urlsplit(location).netloc}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.send_request(HttpRequest("GET", location))
        if response.status_code >= 400:
            raise HttpResponseError(response=response)
        if response.status_code != 202:
            return True
        time.sleep(_poll_delay(response.headers.get("Retry-After")))
    return False


def on_arm_endpoint(url: str) -> bool:
    """Only these URLs are followed: the client sends its token with every request."""
    a, b = urlsplit(url), urlsplit(settings.arm_endpoint())
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def _poll_delay(retry_after: str | None) -> float:
    """ARM's ``Retry-After``, kept between half a second and ten (the wait itself is bounded)."""
    try:
        return min(max(float(retry_after or 2), 0.5), 10.0)
    except ValueError:
        return 2.0
