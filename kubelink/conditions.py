"""Kubernetes-style conditions on a link record (README, "HTTP API": ``conditions``, at least ``Ready``).

``lastTransitionTime`` says when the *status* last changed, not when someone last looked: a link verified
healthy every 15 minutes keeps the time it became Ready. That is what makes "Ready since" meaningful.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

ConditionStatus = Literal["True", "False", "Unknown"]
Severity = Literal["Error", "Warning", "Info", ""]

READY = "Ready"


def utc_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC to the second with ``Z`` (``2026-01-31T12:00:00Z``), as Kubernetes writes times."""
    if moment.tzinfo is None:
        raise ValueError("a timestamp needs a timezone-aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Condition:
    type: str
    status: ConditionStatus
    reason: str
    message: str = ""
    severity: Severity = ""
    last_transition_time: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "status": self.status,
            "severity": self.severity,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": self.last_transition_time,
        }

    @staticmethod
    def from_json(body: Mapping[str, Any]) -> Condition:
        return Condition(
            type=body["type"],
            status=body["status"],
            reason=body.get("reason", ""),
            message=body.get("message", ""),
            severity=body.get("severity", ""),
            last_transition_time=body.get("lastTransitionTime", ""),
        )


def set_condition(conditions: Sequence[Condition], new: Condition, now: datetime) -> tuple[Condition, ...]:
    """``conditions`` with ``new`` in place of the one of its type (appended if absent).

    The transition time moves to ``now`` only when the status changes; reason, message and severity always
    take the new values.
    """
    current = get_condition(conditions, new.type)
    if current is not None and current.status == new.status and current.last_transition_time:
        stamped = replace(new, last_transition_time=current.last_transition_time)
    else:
        stamped = replace(new, last_transition_time=utc_timestamp(now))
    if current is None:
        return (*conditions, stamped)
    return tuple(stamped if c.type == new.type else c for c in conditions)


def get_condition(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)
