"""DTFx history events and SDK action types as plain JSON dicts, shaped as the extension sends them."""

from __future__ import annotations

import json
import traceback
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser

EXECUTION_STARTED = 0
EXECUTION_COMPLETED = 1
EXECUTION_FAILED = 2
EXECUTION_TERMINATED = 3
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
SUB_ORCHESTRATION_CREATED = 7
SUB_ORCHESTRATION_COMPLETED = 8
SUB_ORCHESTRATION_FAILED = 9
TIMER_CREATED = 10
TIMER_FIRED = 11
ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13
EVENT_SENT = 14
EVENT_RAISED = 15
CONTINUE_AS_NEW = 16

EVENT_NAMES = {
    EXECUTION_STARTED: "ExecutionStarted",
    EXECUTION_COMPLETED: "ExecutionCompleted",
    EXECUTION_FAILED: "ExecutionFailed",
    EXECUTION_TERMINATED: "ExecutionTerminated",
    TASK_SCHEDULED: "TaskScheduled",
    TASK_COMPLETED: "TaskCompleted",
    TASK_FAILED: "TaskFailed",
    SUB_ORCHESTRATION_CREATED: "SubOrchestrationInstanceCreated",
    SUB_ORCHESTRATION_COMPLETED: "SubOrchestrationInstanceCompleted",
    SUB_ORCHESTRATION_FAILED: "SubOrchestrationInstanceFailed",
    TIMER_CREATED: "TimerCreated",
    TIMER_FIRED: "TimerFired",
    ORCHESTRATOR_STARTED: "OrchestratorStarted",
    ORCHESTRATOR_COMPLETED: "OrchestratorCompleted",
    EVENT_SENT: "EventSent",
    EVENT_RAISED: "EventRaised",
    CONTINUE_AS_NEW: "ContinueAsNew",
}
COMPLETION_EVENTS = frozenset(
    {TASK_COMPLETED, TASK_FAILED, TIMER_FIRED, SUB_ORCHESTRATION_COMPLETED, SUB_ORCHESTRATION_FAILED}
)

# DTFx OrchestrationStatus values as stored in ExecutionCompleted.OrchestrationStatus.
ORCHESTRATION_STATUS = {"Running": 0, "Completed": 1, "ContinuedAsNew": 2, "Failed": 3, "Canceled": 4, "Terminated": 5}

A_CALL_ACTIVITY = 0
A_CALL_ACTIVITY_WITH_RETRY = 1
A_CALL_SUB_ORCHESTRATOR = 2
A_CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
A_CONTINUE_AS_NEW = 4
A_CREATE_TIMER = 5
A_WAIT_FOR_EXTERNAL_EVENT = 6
A_WHEN_ANY = 11
A_WHEN_ALL = 12
ACTION_NAMES = {
    0: "CallActivity",
    1: "CallActivityWithRetry",
    2: "CallSubOrchestrator",
    3: "CallSubOrchestratorWithRetry",
    4: "ContinueAsNew",
    5: "CreateTimer",
    6: "WaitForExternalEvent",
    7: "CallEntity",
    8: "CallHttp",
    9: "SignalEntity",
    10: "ScheduledSignalEntity",
    11: "WhenAny",
    12: "WhenAll",
}
_ACTION_CLASSES = {
    TASK_SCHEDULED: "ScheduleTaskOrchestratorAction",
    TIMER_CREATED: "CreateTimerOrchestratorAction",
    SUB_ORCHESTRATION_CREATED: "CreateSubOrchestrationAction",
}

EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def action_class(event_type: int | None) -> str:
    """The DTFx action class name used in non-determinism messages."""
    return _ACTION_CLASSES.get(event_type or -1, "OrchestratorAction")


def format_time(moment: datetime) -> str:
    """History timestamps: ISO-8601 UTC with ``Z`` (the SDK's own DATETIME_STRING_FORMAT)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_status_time(moment: datetime) -> str:
    """Status payload times: .NET ``ToString("s") + "Z"``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    moment = dateparser.isoparse(text) if "T" in text else dateparser.parse(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def compact(value: Any) -> str:
    """Newtonsoft's default (unindented) JSON text, as DTFx stores payloads."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_input(action_input: Any) -> str:
    """DTFx serializes the SDK's input token again, so string inputs end up twice-encoded (SDK #571)."""
    return compact(action_input)


def decode_input(stored: str | None) -> Any:
    """The token the extension puts in the orchestration context (``input``) for a stored input."""
    return None if stored is None else json.loads(stored)


def decode_json(text: str | None) -> Any:
    """The extension's ``ParseToJToken``: JSON when it parses, else the raw (trimmed) string."""
    if text is None:
        return None
    value = text.strip()
    if not value:
        return ""
    try:
        return json.loads(value)
    except ValueError:
        return value


def format_traceback(error: BaseException | None) -> str:
    if error is None:
        return ""
    return "".join(traceback.format_exception(error)).rstrip()


def _event(event_type: int, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    return {"EventType": event_type, "EventId": event_id, "IsPlayed": False, "Timestamp": "", **fields}


def stamp(event: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """Give an event its time of arrival in history (DTFx sets Timestamp when it adds the event)."""
    return {**event, "Timestamp": format_time(moment)}


def orchestrator_started(moment: datetime) -> dict[str, Any]:
    return stamp(_event(ORCHESTRATOR_STARTED), moment)


def orchestrator_completed(moment: datetime) -> dict[str, Any]:
    return stamp(_event(ORCHESTRATOR_COMPLETED), moment)


def execution_started(
    name: str,
    instance_id: str,
    execution_id: str,
    input_json: str | None,
    parent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return _event(
        EXECUTION_STARTED,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=parent,
        Name=name,
        Version="",
        Input=input_json,
        Tags=None,
    )


def execution_completed(event_id: int, status: str, result: str | None, details: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"OrchestrationStatus": ORCHESTRATION_STATUS[status], "Result": result}
    if details is not None:
        fields["Details"] = details
    return _event(EXECUTION_COMPLETED, event_id, **fields)


def execution_terminated(reason: str | None) -> dict[str, Any]:
    return _event(EXECUTION_TERMINATED, Input=reason)


def continue_as_new(event_id: int, input_json: str | None) -> dict[str, Any]:
    return _event(
        CONTINUE_AS_NEW, event_id, OrchestrationStatus=ORCHESTRATION_STATUS["ContinuedAsNew"], Result=input_json
    )


def task_scheduled(task_id: int, name: str, input_json: str | None) -> dict[str, Any]:
    return _event(TASK_SCHEDULED, task_id, Name=name, Version="", Input=input_json)


def task_completed(task_id: int, result: str | None) -> dict[str, Any]:
    return _event(TASK_COMPLETED, TaskScheduledId=task_id, Result=result)


def task_failed(task_id: int, reason: str, details: str | None) -> dict[str, Any]:
    return _event(TASK_FAILED, TaskScheduledId=task_id, Reason=reason, Details=details)


def timer_created(task_id: int, fire_at: datetime) -> dict[str, Any]:
    return _event(TIMER_CREATED, task_id, FireAt=format_time(fire_at))


def timer_fired(task_id: int, fire_at: str) -> dict[str, Any]:
    return _event(TIMER_FIRED, TimerId=task_id, FireAt=fire_at)


def sub_orchestration_created(task_id: int, name: str, instance_id: str, input_json: str | None) -> dict[str, Any]:
    return _event(SUB_ORCHESTRATION_CREATED, task_id, Name=name, Version="", InstanceId=instance_id, Input=input_json)


def sub_orchestration_completed(task_id: int, result: str | None) -> dict[str, Any]:
    return _event(SUB_ORCHESTRATION_COMPLETED, TaskScheduledId=task_id, Result=result)


def sub_orchestration_failed(task_id: int, reason: str | None, details: str | None) -> dict[str, Any]:
    return _event(SUB_ORCHESTRATION_FAILED, TaskScheduledId=task_id, Reason=reason, Details=details)


def event_raised(name: str, input_json: str | None) -> dict[str, Any]:
    return _event(EVENT_RAISED, Name=name, Input=input_json)


def for_status(events: list[dict[str, Any]], *, show_output: bool, show_input: bool) -> list[dict[str, Any]]:
    """The extension's ``historyEvents`` view (DurableClient.GetDurableOrchestrationStatusAsync)."""
    items = [dict(e) for e in events]
    scheduled: dict[str, tuple[int, dict[str, Any]]] = {}
    drop: set[int] = set()

    def track(kind: str, index: int, item: dict[str, Any]) -> None:
        scheduled[f"{kind}_{item['EventId']}"] = (index, dict(item))
        item.pop("Version", None)

    def aggregate(kind: str, item: dict[str, Any]) -> None:
        found = scheduled.get(f"{kind}_{item.get('TaskScheduledId')}")
        if found is not None:
            index, source = found
            item["ScheduledTime"] = source["Timestamp"]
            item["FunctionName"] = source.get("Name")
            if show_input:
                item["Input"] = source.get("Input")
            drop.add(index)

    for index, item in enumerate(items):
        etype = item["EventType"]
        item["EventType"] = EVENT_NAMES.get(etype, str(etype))
        if etype == TASK_SCHEDULED:
            track("TaskScheduled", index, item)
        elif etype in (TASK_COMPLETED, TASK_FAILED):
            aggregate("TaskScheduled", item)
            item.pop("TaskScheduledId", None)
            if not show_output and etype == TASK_COMPLETED:
                item.pop("Result", None)
            if show_output and etype == TASK_COMPLETED:
                item["Result"] = decode_json(item.get("Result"))
        elif etype == SUB_ORCHESTRATION_CREATED:
            track("SubOrchestrationInstanceCreated", index, item)
        elif etype in (SUB_ORCHESTRATION_COMPLETED, SUB_ORCHESTRATION_FAILED):
            aggregate("SubOrchestrationInstanceCreated", item)
            item.pop("TaskScheduledId", None)
            if not show_output and etype == SUB_ORCHESTRATION_COMPLETED:
                item.pop("Result", None)
            if show_output and etype == SUB_ORCHESTRATION_COMPLETED:
                item["Result"] = decode_json(item.get("Result"))
        elif etype == EXECUTION_STARTED:
            item["FunctionName"] = item.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                item.pop(key, None)
        elif etype == EXECUTION_COMPLETED:
            names = {v: k for k, v in ORCHESTRATION_STATUS.items()}
            item["OrchestrationStatus"] = names.get(item["OrchestrationStatus"], item["OrchestrationStatus"])
            if show_output:
                item["Result"] = decode_json(item.get("Result"))
            else:
                item.pop("Result", None)
        elif etype == TIMER_FIRED:
            item.pop("TimerId", None)
        elif etype in (ORCHESTRATOR_STARTED, ORCHESTRATOR_COMPLETED):
            drop.add(index)
        if not show_input:
            item.pop("Input", None)
        item.pop("EventId", None)
        item.pop("IsPlayed", None)
    return [item for index, item in enumerate(items) if index not in drop]
