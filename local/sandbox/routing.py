"""Requests, responses and the route table shared by the resource providers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .arm_errors import ArmError

if TYPE_CHECKING:
    from .cloud import Cloud
    from .identity import Principal

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourceGroups/(?P<rg>[^/]+)"
NAME = r"[^/]+"


def provider(namespace: str) -> str:
    return RG + "/providers/" + re.escape(namespace)


@dataclass
class Request:
    method: str
    path: str  # decoded, without query
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any
    base_url: str  # scheme://host[:port] the client used, for the URLs we hand back
    params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None  # who sent it, once authenticated

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; ARM's 400 when it is not one."""
        if not isinstance(self.body, dict):
            raise ArmError(
                400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
            )
        return self.body


@dataclass
class Response:
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


Handler = Callable[["Cloud", Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Method + regex routes, matched case-insensitively like ARM paths."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append(Route(method, re.compile(pattern + "$", re.IGNORECASE), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route.handler, found.groupdict()
            allowed = True
        if allowed:
            raise ArmError(
                405, "HttpMethodNotAllowed", f"The requested resource does not support http method '{method}'."
            )
        raise ArmError(404, "NotFound", f"No route registered for '{path}'.")
