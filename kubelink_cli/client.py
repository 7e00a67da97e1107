"""A client of kubelink's HTTP API (README "HTTP API"), as a user's tool or a script drives it.

One class for the ``kubelink`` command, the demo, the benchmarks and the end-to-end suites (``local/world_client``
builds on it), so there is one way to start a run and follow its status URL. It needs only ``requests``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import requests

#: the orchestration's five steps, in order (customStatus.steps)
STEPS = ("service", "gateway", "pointToSite", "vnetIntegration", "appSetting")
TERMINAL = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
KEY_HEADER = "x-functions-key"
#: how long a status URL may keep failing (connection refused, 5xx) before following it gives up: a host restart
#: or a gateway blip during a 60-minute run should not end the wait
FOLLOW_OUTAGE_SECONDS = 60.0
WORLD_FILE = Path(".local") / "world.json"


class ApiError(RuntimeError):
    """kubelink answered something other than what the call expects; ``code``, ``message`` and ``details`` come
    from its error body (``{"error": {code, message, details: [{field, message}]}}``) when it has one."""

    def __init__(self, method: str, path: str, response: requests.Response) -> None:
        self.response = response
        self.status = response.status_code
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        self.code: str = error.get("code") or f"HTTP{response.status_code}"
        answer = response.text.strip()[:500] or f"{method} {path} answered {response.status_code} {response.reason}"
        self.error_message: str = error.get("message") or answer
        self.details: list[dict[str, Any]] = list(error.get("details") or [])
        self.status_query_uri: str | None = error.get("statusQueryGetUri")
        super().__init__(f"{method} {path} answered {response.status_code}: {response.text}")


class Run(NamedTuple):
    """A finished run: its last status, and every distinct customStatus seen while following it."""

    status: dict[str, Any]
    seen: list[dict[str, Any]]


class RunFailure(NamedTuple):
    """What a Failed run's output says: the step, Azure's (or Kubernetes') code and message, the resource."""

    step: str
    code: str
    message: str
    resource: str

    @staticmethod
    def of(status: Mapping[str, Any]) -> RunFailure:
        """Parse the output of a Failed (or Terminated) run: ``Orchestrator function '…' failed: {json}``."""
        output = status.get("output")
        if isinstance(output, str) and "{" in output:
            try:
                body = json.loads(output[output.index("{") :])
            except ValueError:
                body = None
            if isinstance(body, dict):
                return RunFailure(
                    str(body.get("step", "")),
                    str(body.get("code", "")),
                    str(body.get("message", "")),
                    str(body.get("resource", "")),
                )
        return RunFailure("", status.get("runtimeStatus", "Failed"), str(output or ""), "")


class KubelinkClient:
    """kubelink at ``url`` (``http://127.0.0.1:7071`` or ``https://{app}.azurewebsites.net``), sending the
    function key, when given, in ``x-functions-key`` on every request, status URLs included."""

    def __init__(self, url: str, key: str | None = None, session: requests.Session | None = None) -> None:
        self.host = url.rstrip("/")
        self.http = session or requests.Session()
        if key:
            self.http.headers[KEY_HEADER] = key

    # --- HTTP -------------------------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> requests.Response:
        """Any route; the response as it came. A ``bytes`` body is sent as it is (a spec file, so that kubelink
        judges exactly what the user wrote), anything else as JSON."""
        url = f"{self.host}{path}"
        if isinstance(body, bytes):
            headers = {"Content-Type": "application/json"}
            return self.http.request(method, url, data=body, params=params, headers=headers, timeout=60)
        return self.http.request(method, url, json=body, params=params, timeout=60)

    def post(self, path: str, body: Any = None) -> requests.Response:
        return self.request("POST", path, body)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON answer that must be 200."""
        response = self.request("GET", path, params=params)
        if response.status_code != 200:
            raise ApiError("GET", path, response)
        return response.json()

    def start(self, path: str, body: Any = None, method: str = "POST") -> str:
        """Call a starter; its 202 check-status body gives the status URL to follow."""
        response = self.request(method, path, body)
        if response.status_code != 202:
            raise ApiError(method, path, response)
        uri: str = response.json()["statusQueryGetUri"]
        return uri

    def follow(
        self,
        uri: str,
        timeout: float = 180,
        on_change: Callable[[dict[str, Any]], None] | None = None,
        interval: float = 0.25,
    ) -> Run:
        """Poll the status URL until the run ends, as the Durable HTTP API asks: 202 + ``Location`` while it
        runs, 200 once it has ended. ``on_change`` sees each new customStatus. A status URL that cannot be
        reached or answers 5xx is asked again for up to ``FOLLOW_OUTAGE_SECONDS``."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        outage_since: float | None = None
        while True:
            try:
                response = self.http.get(uri, timeout=60)
            except requests.ConnectionError:
                response = None
            if response is None or response.status_code >= 500:
                outage_since = outage_since or time.monotonic()
                if time.monotonic() - outage_since > FOLLOW_OUTAGE_SECONDS:
                    answer = f"answered {response.status_code}" if response is not None else "could not be reached"
                    raise RuntimeError(f"{uri} {answer} for {FOLLOW_OUTAGE_SECONDS:.0f} s")
                time.sleep(max(interval, 1.0))
                continue
            outage_since = None
            status: dict[str, Any] = response.json()
            custom = status.get("customStatus")
            if custom and (not seen or seen[-1] != custom):
                seen.append(custom)
                if on_change:
                    on_change(custom)
            ended = status["runtimeStatus"] in TERMINAL
            if response.status_code != (200 if ended else 202) or not (ended or response.headers.get("Location")):
                raise RuntimeError(f"{uri} answered {response.status_code} for a {status['runtimeStatus']} run")
            if ended:
                return Run(status, seen)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{uri} still {status['runtimeStatus']} after {timeout:.0f} s: {status}")
            time.sleep(interval)

    def completed(self, path: str, body: Any = None, timeout: float = 180) -> dict[str, Any]:
        """Start a run, follow it, and return its output; a run that does not complete is an error."""
        status = self.follow(self.start(path, body), timeout).status
        if status["runtimeStatus"] != "Completed":
            raise RuntimeError(f"{path} ended {status['runtimeStatus']}: {status.get('output')}")
        output: dict[str, Any] = status["output"]
        return output

    def instance_status_uri(self, instance_id: str) -> str:
        return f"{self.host}/runtime/webhooks/durabletask/instances/{instance_id}"

    # --- kubelink's routes ----------------------------------------------------------------------

    def start_provisioning(self, spec: Any) -> str:
        """POST /api/links: the status URL of the provisioning run."""
        return self.start("/api/links", spec)

    def links(self) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self.get("/api/links")["value"]
        return value

    def link(self, name: str) -> dict[str, Any]:
        record: dict[str, Any] = self.get(f"/api/links/{name}")
        return record

    def drift(self, name: str, top: int = 100) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self.get(f"/api/links/{name}/drift", params={"top": top})["value"]
        return value

    def plan(self, spec: Any) -> list[dict[str, Any]]:
        response = self.post("/api/plan", spec)
        if response.status_code != 200:
            raise ApiError("POST", "/api/plan", response)
        changes: list[dict[str, Any]] = response.json()["changes"]
        return changes

    def start_verification(self, name: str) -> str:
        """POST /api/links/{name}/verify: the status URL of the verification run."""
        return self.start(f"/api/links/{name}/verify")

    def start_teardown(self, name: str, delete_shared_resources: bool = False) -> str:
        """DELETE /api/links/{name}: the status URL of the teardown run (``teardown_link``)."""
        query = "?deleteSharedResources=true" if delete_shared_resources else ""
        return self.start(f"/api/links/{name}{query}", method="DELETE")


def find_world_file(start: Path | None = None) -> Path | None:
    """``.local/world.json`` in the working directory or one above it, else in the checkout this package runs
    from (an editable install): where ``make run`` writes it."""
    here = (start or Path.cwd()).resolve()
    candidates = [folder / WORLD_FILE for folder in (here, *here.parents)]
    candidates.append(Path(__file__).resolve().parent.parent / WORLD_FILE)
    return next((path for path in candidates if path.is_file()), None)


def default_url() -> str | None:
    """``KUBELINK_URL``, else the host of the running local world, else None."""
    if url := os.environ.get("KUBELINK_URL"):
        return url
    world = find_world_file()
    if world is None:
        return None
    host: str | None = json.loads(world.read_text()).get("host")
    return host
