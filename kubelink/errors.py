"""Errors that cross the activity/orchestrator boundary.

Like kopf's TemporaryError/PermanentError: the *type* says whether retrying can help, so no caller
string-matches messages. Every error carries the step, the resource, and Azure's or Kubernetes' own
code and message, and serialises to plain JSON (activities return it, orchestrators read it back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One bad field of a request body, named by its JSON path (e.g. ``gateway.clientAddressPool``)."""

    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class KubelinkError(Exception):
    """Base of every error kubelink reports to a user."""

    transient = False

    def __init__(
        self,
        code: str,
        message: str,
        *,
        step: str | None = None,
        resource: str | None = None,
        retry_after: float | None = None,
        details: tuple[FieldError, ...] = (),
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.step = step
        self.resource = resource
        self.retry_after = retry_after
        self.details = details

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "transient": self.transient,
        }
        if self.step:
            body["step"] = self.step
        if self.resource:
            body["resource"] = self.resource
        if self.retry_after is not None:
            body["retryAfter"] = self.retry_after
        if self.details:
            body["details"] = [d.to_json() for d in self.details]
        return body

    @staticmethod
    def from_json(body: dict[str, Any]) -> KubelinkError:
        cls: type[KubelinkError] = TransientError if body.get("transient") else PermanentError
        return cls(
            body["code"],
            body["message"],
            step=body.get("step"),
            resource=body.get("resource"),
            retry_after=body.get("retryAfter"),
            details=tuple(FieldError(d["field"], d["message"]) for d in body.get("details", ())),
        )


class TransientError(KubelinkError):
    """Retrying later can succeed: 429, 5xx, 409 AnotherOperationInProgress, apiserver unreachable."""

    transient = True


class PermanentError(KubelinkError):
    """Retrying cannot help: fail the step at once with the platform's own code and message."""


@dataclass
class InvalidLinkSpec(Exception):
    """A request body that is not a valid link spec; ``details`` names every bad field."""

    details: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{d.field}: {d.message}" for d in self.details)
