"""What a running link orchestration shows on its status URL (README, "What a run does").

Pure and deterministic, so the orchestrator can rebuild it on every replay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Step(StrEnum):
    """Where in a run something happens: the five steps users see in ``customStatus``, and the phases around them
    that errors and activity logs name (a ``StrEnum``, so it is its own JSON)."""

    PREFLIGHT = "preflight"
    SERVICE = "service"
    GATEWAY = "gateway"
    POINT_TO_SITE = "pointToSite"
    VNET_INTEGRATION = "vnetIntegration"
    APP_SETTING = "appSetting"
    VERIFY = "verify"
    PROBE = "probe"
    REMEDIATE = "remediate"
    RECORD = "record"


#: the steps of a provisioning run, in order, as ``customStatus.steps`` shows them
STEPS: tuple[Step, ...] = (Step.SERVICE, Step.GATEWAY, Step.POINT_TO_SITE, Step.VNET_INTEGRATION, Step.APP_SETTING)

StepState = Literal["pending", "running", "done", "failed"]
StepResult = Literal["created", "updated", "unchanged"]


def combine_results(results: Iterable[str]) -> StepResult:
    """One step may write several resources: it 'created' if any was created, else 'updated' if any was."""
    seen = set(results)
    if "created" in seen:
        return "created"
    if "updated" in seen:
        return "updated"
    return "unchanged"


@dataclass
class Progress:
    """Step states, results and the human sentence for ``customStatus``, handed to ``publish`` (the orchestrator's
    ``set_custom_status``) at every change, so no step can forget to show itself."""

    publish: Callable[[dict[str, Any]], None] | None = None
    steps: tuple[str, ...] = STEPS
    states: dict[str, StepState] = field(default_factory=dict)
    results: dict[str, StepResult] = field(default_factory=dict)
    current: str | None = None
    message: str = "Starting"

    def __post_init__(self) -> None:
        for step in self.steps:
            self.states.setdefault(step, "pending")

    def start(self, step: str, message: str) -> None:
        self.current = step
        self.states[step] = "running"
        self.say(message)

    def say(self, message: str) -> None:
        self.message = message
        if self.publish:
            self.publish(self.custom_status())

    def finish(self, step: str, result: StepResult, message: str) -> None:
        self.states[step] = "done"
        self.results[step] = result
        self.say(message)

    def fail(self, step: str, message: str) -> None:
        """``step`` may be outside ``steps`` (the pre-flight): it is then named in ``step`` only."""
        self.current = step
        if step in self.states:
            self.states[step] = "failed"
        self.say(message)

    def custom_status(self) -> dict[str, Any]:
        return {"step": self.current, "steps": dict(self.states), "message": self.message}

    def output(self, name: str, private_address: str | None) -> dict[str, Any]:
        steps = {step: self.results[step] for step in self.steps if step in self.results}
        return {"name": name, "privateAddress": private_address, "steps": steps}
