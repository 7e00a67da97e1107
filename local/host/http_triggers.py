"""HTTP triggers: ASP.NET-style route templates, ``func.HttpRequest`` in, ``func.HttpResponse`` out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from azure.functions.http import HttpRequest, HttpResponseConverter

from local.host.functions import FunctionInfo

ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS")
_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "guid": r"[0-9A-Fa-f]{8}-?(?:[0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}",
    "double": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
}
_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+)(?:\([^)]*\))?)?(\?)?(?:=[^}]*)?\}")


@dataclass(frozen=True)
class HttpRoute:
    function: FunctionInfo
    template: str
    pattern: re.Pattern[str]
    methods: tuple[str, ...]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {k: v for k, v in found.groupdict().items() if v is not None}


def compile_template(template: str) -> re.Pattern[str]:
    """Segments with ``{name}``, ``{name?}``, ``{name:int}`` and catch-all ``{*rest}``, matched case-insensitively."""
    segments = [s for s in template.strip("/").split("/") if s]
    regex = ""
    for segment in segments:
        optional = False
        piece, last = "", 0
        for param in _PARAM.finditer(segment):
            piece += re.escape(segment[last : param.start()])
            catch_all, name, constraint, opt = param.groups()
            body = ".*" if catch_all else _CONSTRAINTS.get((constraint or "").lower(), "[^/]+")
            piece += f"(?P<{name}>{body})"
            optional = optional or bool(opt) or bool(catch_all)
            last = param.end()
        piece += re.escape(segment[last:])
        regex += f"(?:/{piece})?" if optional else f"/{piece}"
    return re.compile(regex or "/?", re.IGNORECASE)


def build_routes(functions: dict[str, FunctionInfo], prefix: str) -> list[HttpRoute]:
    routes = []
    for info in functions.values():
        if info.trigger_type != "httpTrigger":
            continue
        template = "/".join(p for p in (prefix, str(info.trigger.get("route") or info.name)) if p)
        methods = tuple(m.upper() for m in info.trigger.get("methods") or ALL_METHODS)
        routes.append(HttpRoute(info, template, compile_template(template), methods))
    # Literal segments win over parameters, as in ASP.NET routing's precedence.
    routes.sort(key=lambda r: (r.template.count("{"), -len(r.template)))
    return routes


def find_route(routes: list[HttpRoute], method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
    for route in routes:
        if method in route.methods or (method == "HEAD" and "GET" in route.methods):
            params = route.match(path.rstrip("/") if path != "/" else path)
            if params is not None:
                return route, params
    return None


async def to_request(request: web.Request, route_params: dict[str, str]) -> HttpRequest:
    """What the host sends the worker: method, full URL, headers, query (last value wins), route params, body."""
    body = await request.read()
    content_type = request.content_type.lower()
    value: str | bytes = body
    if not body:
        body_type = "bytes"
    elif content_type == "application/json":
        body_type, value = "json", body.decode("utf-8", errors="replace")
    elif content_type.startswith("text/"):
        body_type, value = "string", body.decode("utf-8", errors="replace")
    else:
        body_type = "bytes"
    return HttpRequest(
        method=request.method,
        url=str(request.url),
        headers={k: v for k, v in request.headers.items()},
        params={k: v for k, v in request.query.items()},
        route_params=route_params,
        body_type=body_type,
        body=value,
    )


def to_response(result: Any) -> web.Response:
    """The worker's ``HttpResponseConverter.encode``; a function returning None answers 204 as the host does."""
    if result is None:
        return web.Response(status=204)
    datum = HttpResponseConverter.encode(result, expected_type=None)
    if datum.type == "string":
        return web.Response(status=200, body=str(datum.value).encode(), content_type="text/plain")
    value = datum.value
    headers = {name: str(header.value) for name, header in value["headers"].items()}
    response = web.Response(status=int(value["status_code"].value), body=value["body"].value, headers=headers)
    for cookie in value.get("cookies") or []:
        for morsel in cookie.values():
            response.headers.add("Set-Cookie", morsel.OutputString())
    return response
