"""Replay a recorded orchestration history through the real SDK, one episode at a time.

After every episode the recorded history is cut where the host appended the episode's decisions, and the
orchestrator is asked again: the actions it returns must be exactly the ones the host recorded. Any
non-deterministic code (a clock read, an environment lookup, a changed order) would make them differ.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from dateutil import parser

from local.host.taskhub import Store

ORCHESTRATOR_STARTED, EXECUTION_STARTED, TASK_SCHEDULED, TIMER_CREATED = 12, 0, 4, 10
DECISIONS = {TASK_SCHEDULED: "CallActivity", TIMER_CREATED: "CreateTimer"}


def assert_replays_deterministically(host_state: Path, instance_id: str) -> int:
    """Check every episode of ``instance_id``; return how many episodes were replayed."""
    store = Store(host_state)
    try:
        history = store.history(instance_id)
    finally:
        store.close()
    orchestrator = _provision_link()
    run_input = json.loads(history[1]["Input"])
    starts = [i for i, e in enumerate(history) if e["EventType"] == ORCHESTRATOR_STARTED]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(history)
        episode = history[start:end]
        first_decision = next((i for i, e in enumerate(episode) if e["EventType"] in DECISIONS), len(episode))
        prefix = history[:start] + episode[:first_decision]
        expected = [_decision(e) for e in history[: start + len(episode)] if e["EventType"] in DECISIONS]
        state = json.loads(orchestrator(json.dumps(_context(instance_id, prefix, run_input))))
        actual = [_action(a) for group in state["actions"] for a in group]
        assert actual == expected, (
            f"episode {number}: SDK decided {actual[len(expected) - 3 :]}, host recorded "
            f"{expected[len(expected) - 3 :]}"
        )
    return len(starts)


@functools.cache
def _provision_link() -> Callable[[str], str]:
    """The orchestrator as the SDK wraps it; looked up once, since an app lists its functions only once."""
    import function_app

    handle = next(f for f in function_app.app.get_functions() if f.get_function_name() == "provision_link")
    orchestrator: Callable[[str], str] = handle.get_user_function()
    return orchestrator


def _context(instance_id: str, history: list[dict[str, Any]], run_input: Any) -> dict[str, Any]:
    return {
        "history": [{**e, "IsPlayed": True} for e in history],
        "input": run_input,
        "instanceId": instance_id,
        "isReplaying": True,
        "parentInstanceId": None,
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
    }


def _decision(event: dict[str, Any]) -> tuple[str, str]:
    if event["EventType"] == TASK_SCHEDULED:
        return ("CallActivity", event["Name"])
    return ("CreateTimer", _instant(event["FireAt"]))


def _action(action: dict[str, Any]) -> tuple[str, str]:
    if action["actionType"] == 0:
        return ("CallActivity", action["functionName"])
    return ("CreateTimer", _instant(action["fireAt"]))


def _instant(text: str) -> str:
    """The host writes .NET-style UTC stamps, the SDK ISO 8601: compare the instants."""
    return parser.isoparse(text).astimezone(UTC).isoformat()
