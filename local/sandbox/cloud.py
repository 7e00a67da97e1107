"""What every resource provider handler gets: the world, the settings, faults, and the LRO protocol."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from . import arm_errors
from .control import Faults
from .rbac import Authorizer
from .routing import Request
from .state import Json, Operation, SandboxState
from .tls import CertificateAuthority


@dataclass(frozen=True)
class Settings:
    """Durations of the simulated cloud, in seconds (Azure's are minutes; tests want them short)."""

    lro_seconds: float = 0.5
    gateway_seconds: float = 3.0
    ilb_delay_seconds: float = 1.0
    #: Upper bound for the ``Retry-After`` the sandbox suggests on 202 answers and running operations' polls.
    max_retry_after: int = 10
    #: ARM's token buckets multiplied by this (0: no throttling; see throttling.py)
    throttle_scale: float = 0.0
    #: Event Grid's retry schedule (10 s, 30 s, 1 min…) multiplied by this
    event_retry_scale: float = 0.1
    #: Entries per page of a list answer; the rest is behind ``nextLink`` (local/sandbox/listing.py).
    list_page_size: int = 100


class Cloud:
    def __init__(
        self,
        world: SandboxState,
        settings: Settings,
        faults: Faults,
        ca: CertificateAuthority,
        kubeconfig: bytes | None = None,
        authorizer: Authorizer | None = None,
    ) -> None:
        self.world = world
        self.authorizer = authorizer or Authorizer(world)
        self.settings = settings
        self.faults = faults
        self.ca = ca
        self.kubeconfig = kubeconfig
        #: Public URL of each seeded web app, filled in when the site servers start.
        self.site_urls: dict[str, str] = {}

    @property
    def subscription_id(self) -> str:
        return self.world.subscription_id

    def require_linked(self, req: Request, linked_action: str, linked_id: str | None) -> None:
        """The caller may reference ``linked_id`` in this write (see ``Authorizer.check_linked``)."""
        if linked_id and req.principal is not None:
            self.authorizer.check_linked(req.principal, req.method, req.path, linked_action, linked_id)

    def require_group(self, name: str) -> Json:
        group = self.world.group(name)
        if group is None:
            raise arm_errors.resource_group_not_found(name)
        return group

    def begin(
        self,
        req: Request,
        resource_id: str,
        kind: str,
        *,
        duration: float | None = None,
        style: str = "network",
        result: Any = None,
    ) -> Operation:
        """Start an operation on ``resource_id``, applying any injected LRO duration or outcome."""
        seconds = self.faults.lro_seconds_for(req.method, req.path)
        if seconds is None:
            seconds = self.settings.lro_seconds if duration is None else duration
        failure = self.faults.lro_failure_for(req.method, req.path)
        if failure is None:
            return self.world.start_operation(resource_id, kind, duration=seconds, style=style, result=result)
        code, message = failure
        return self.world.start_operation(
            resource_id, kind, duration=seconds, style=style, outcome="Failed", error={"code": code, "message": message}
        )

    def status_url(self, req: Request, op: Operation) -> str:
        return self._op_url(req, op, "operations" if op.style == "network" else "privateDnsOperationStatuses")

    def result_url(self, req: Request, op: Operation) -> str:
        return self._op_url(req, op, "operationResults" if op.style == "network" else "privateDnsOperationResults")

    def _op_url(self, req: Request, op: Operation, segment: str) -> str:
        version = req.api_version
        if op.style == "network":
            base = f"/subscriptions/{self.subscription_id}/providers/Microsoft.Network/locations/{op.region}"
        else:
            base = (
                f"/subscriptions/{self.subscription_id}/resourceGroups/{op.resource_group}/providers/Microsoft.Network"
            )
        return f"{req.base_url}{base}/{segment}/{op.id}?api-version={version}"

    def lro_headers(
        self,
        req: Request,
        op: Operation,
        *,
        async_operation: bool = True,
        location: bool = False,
        notification: bool = False,
    ) -> dict[str, str]:
        """The headers of an LRO's first answer, as the recordings show them for each operation kind."""
        headers: dict[str, str] = {}
        if async_operation:
            headers["Azure-AsyncOperation"] = self.status_url(req, op)
        if location:
            headers["Location"] = self.result_url(req, op)
            headers["Retry-After"] = str(self.retry_after(op))
        if notification:
            headers["Azure-AsyncNotification"] = "Enabled"
        return headers

    def retry_after(self, op: Operation) -> int:
        """Whole seconds until the operation should be done (at least 1, at most the configured cap)."""
        remaining = max(op.ends - time.time(), 0.0)
        return max(1, min(self.settings.max_retry_after, math.ceil(remaining)))
