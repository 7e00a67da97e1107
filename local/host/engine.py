"""The durable task dispatcher: orchestration episodes, activities and timers over the SQLite task hub."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from local.host import history as h
from local.host.clock import Clock
from local.host.functions import (
    ACTIVITY_TRIGGER,
    ORCHESTRATION_TRIGGER,
    FunctionInfo,
    WorkerContext,
    activity_args,
    activity_failure,
    call_orchestrator,
    encode_activity_result,
    new_invocation_id,
)
from local.host.logs import HostLog
from local.host.replay import EpisodeContext, Functions, Invocation, invalid_orchestrator_message, run_episode
from local.host.taskhub import TERMINAL_STATES, EpisodeCommit, Message, Store, WorkItem

# What the Azure Storage provider sends (AzureStorageDurabilityProvider): enables the SDK's long timers.
MAXIMUM_SHORT_TIMER = "6.00:00:00"
LONG_TIMER_INTERVAL = "3.00:00:00"
_RETRY_BROKEN_EPISODE_SECONDS = 5.0


@dataclass
class _Backoff:
    until: float
    error: str


class Engine:
    """Runs on the host's event loop; orchestrator code runs on one worker thread, activities on a pool."""

    def __init__(
        self,
        *,
        functions: dict[str, FunctionInfo],
        store: Store,
        clock: Clock,
        log: HostLog,
        max_activities: int,
        app_dir: str,
    ) -> None:
        self.functions = functions
        self.store = store
        self.clock = clock
        self.log = log
        self._app_dir = app_dir
        #: the Durable client binding an activity with ``durable_client_input`` receives (set once the port is known)
        self.client_binding: str | None = None
        self._known = Functions(
            activities=[n for n, f in functions.items() if f.trigger_type == ACTIVITY_TRIGGER],
            orchestrators=[n for n, f in functions.items() if f.trigger_type == ORCHESTRATION_TRIGGER],
        )
        self._max_activities = max_activities
        self._orchestrator_thread = ThreadPoolExecutor(1, thread_name_prefix="orchestrator")
        self._activity_pool = ThreadPoolExecutor(max_activities, thread_name_prefix="activity")
        self._inflight: set[int] = set()
        self._backoff: dict[str, _Backoff] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._idle = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        clock.subscribe(self.wake)

    # --- lifecycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        slots = asyncio.Semaphore(self._max_activities)
        while True:
            self._wake.clear()
            for item in self.store.work_items():
                if item.id not in self._inflight:
                    self._idle.clear()
                    self._inflight.add(item.id)
                    task = asyncio.create_task(self._run_activity(item, slots))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            instance_id = self.store.ready_instance(self.clock.now(), skip=self._backed_off())
            if instance_id is not None:
                self._idle.clear()
                await self._loop.run_in_executor(self._orchestrator_thread, self._episode_safely, instance_id)
                continue
            if not self._inflight:
                self._idle.set()
            await self._sleep()

    async def _sleep(self) -> None:
        assert self._wake is not None
        timeout: float | None = 1.0 if self._backoff else None
        due = self.store.next_due()
        if due is not None:
            wait = self.clock.wait_seconds(due)
            if wait is not None:
                timeout = wait if timeout is None else min(timeout, wait)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=None if timeout is None else min(timeout, 1.0))

    def wake(self) -> None:
        """Thread-safe: new messages, results or clock moves should be looked at now."""
        self._idle.clear()
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._orchestrator_thread.shutdown(wait=True, cancel_futures=True)
        self._activity_pool.shutdown(wait=False, cancel_futures=True)

    def wait_idle(self, timeout: float) -> bool:
        """For tests: True once nothing is due or running (timers in the future do not count)."""
        return self._idle.wait(timeout)

    def _backed_off(self) -> set[str]:
        now = time.monotonic()
        for key in [k for k, b in self._backoff.items() if b.until <= now]:
            del self._backoff[key]
        return set(self._backoff)

    # --- orchestrations ------------------------------------------------------------------------

    def _episode_safely(self, instance_id: str) -> None:
        try:
            self._episode(instance_id)
        except Exception as exc:
            # DTFx abandons the work item and retries it later; the messages stay queued.
            self.log.error(f"Episode for instance={instance_id} failed in the host and will be retried: {exc!r}")
            self._backoff[instance_id] = _Backoff(time.monotonic() + _RETRY_BROKEN_EPISODE_SECONDS, repr(exc))

    def _episode(self, instance_id: str) -> None:
        now = self.clock.now()
        messages = self.store.ready_messages(instance_id, now)
        instance = self.store.get_instance(instance_id)
        if not messages:
            return
        if instance is None or instance.status in TERMINAL_STATES:
            self.store.drop_messages([m.id for m in messages])
            return
        live = [m for m in messages if m.execution_id == instance.execution_id]
        stale = [m.id for m in messages if m.execution_id != instance.execution_id]
        if not live:
            self.store.drop_messages(stale)
            return
        past = [{**event, "IsPlayed": True} for event in self.store.history(instance_id)]
        new = [h.orchestrator_started(now), *({**m.event, "IsPlayed": False} for m in live)]
        started = next(e for e in past + new if e["EventType"] == h.EXECUTION_STARTED)
        parent = started.get("ParentInstance")
        ctx = EpisodeContext(
            name=instance.name,
            instance_id=instance_id,
            execution_id=instance.execution_id,
            parent_instance_id=parent["OrchestrationInstance"]["InstanceId"] if parent else None,
            functions=self._known,
            log_warning=lambda text: self.log.warning(f"{text} instance={instance_id}"),
        )
        info = self.functions.get(instance.name)
        if info is None or info.trigger_type != ORCHESTRATION_TRIGGER:
            ctx.complete("Failed", invalid_orchestrator_message(instance.name, self._known.orchestrators))
            result_events: list[dict[str, Any]] = []
            completion, custom_status = ctx.completion, None
        else:
            result = run_episode(
                past=past,
                new=new,
                ctx=ctx,
                invoke=functools.partial(self._invoke_orchestrator, info, instance_id, started, parent),
            )
            result_events, completion, custom_status = result.new_events, result.completion, result.custom_status
        self._commit(
            instance_id,
            instance.execution_id,
            instance.name,
            now,
            live,
            stale,
            new,
            result_events,
            completion,
            custom_status,
        )

    def _invoke_orchestrator(
        self,
        info: FunctionInfo,
        instance_id: str,
        started: dict[str, Any],
        parent: dict[str, Any] | None,
        events: list[dict[str, Any]],
        replaying: bool,
    ) -> Invocation:
        """The orchestration trigger binding (OrchestrationContextToString), V3 schema, Azure Storage timers."""
        context = {
            "history": events,
            "input": h.decode_input(started.get("Input")),
            "instanceId": instance_id,
            "isReplaying": replaying,
            "parentInstanceId": parent["OrchestrationInstance"]["InstanceId"] if parent else None,
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
            "longRunningTimerIntervalDuration": LONG_TIMER_INTERVAL,
            "maximumShortTimerDuration": MAXIMUM_SHORT_TIMER,
            "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
        }
        invocation_id = new_invocation_id()
        began = time.perf_counter()
        state, error = call_orchestrator(info, json.dumps(context))
        self.log.executed(info.name, error is None, invocation_id, began, instance_id)
        if error is not None and state is None:
            self.log.error(f"Orchestrator '{info.name}' raised outside the SDK: {h.format_traceback(error)}")
        return Invocation(state, error)

    def _commit(
        self,
        instance_id: str,
        execution_id: str,
        name: str,
        now: datetime,
        live: list[Message],
        stale: list[int],
        new: list[dict[str, Any]],
        decisions: list[dict[str, Any]],
        completion: Any,
        custom_status: str | None,
    ) -> None:
        history = [*new, *(h.stamp(e, now) for e in decisions)]
        commit = EpisodeCommit(
            instance_id=instance_id,
            consumed=[m.id for m in live] + stale,
            history=history,
            replace_history=False,
            status="Running",
            output=None,
            custom_status=custom_status,
            updated=now,
            work_items=[],
            messages=[],
            children=[],
        )
        assert commit.work_items is not None and commit.messages is not None and commit.children is not None
        for event in decisions:
            if event["EventType"] == h.TASK_SCHEDULED:
                commit.work_items.append((event["EventId"], event["Name"], h.decode_input(event["Input"])))
            elif event["EventType"] == h.TIMER_CREATED:
                fire_at = h.parse_time(event["FireAt"])
                fired = h.stamp(h.timer_fired(event["EventId"], event["FireAt"]), fire_at)
                commit.messages.append((instance_id, execution_id, fire_at, fired))
            elif event["EventType"] == h.SUB_ORCHESTRATION_CREATED:
                parent = {
                    "Name": name,
                    "Version": "",
                    "OrchestrationInstance": {"InstanceId": instance_id, "ExecutionId": execution_id},
                    "TaskScheduleId": event["EventId"],
                }
                commit.children.append(
                    (event["Name"], event["InstanceId"], uuid.uuid4().hex, event.get("Input"), parent)
                )
        if completion is not None and completion.status == "ContinuedAsNew":
            # DTFx starts the next execution in the same work item; this episode's side effects go with the old one.
            next_execution = uuid.uuid4().hex
            restart = h.stamp(h.execution_started(name, instance_id, next_execution, completion.result), now)
            commit.replace_history, commit.history = True, []
            commit.work_items, commit.children = [], []
            commit.messages = [(instance_id, next_execution, now, restart)]
            commit.execution_id, commit.input = next_execution, completion.result
            self.log.info(f"Orchestration '{name}' continued as new instance={instance_id}")
        else:
            if completion is not None:
                history.append(
                    h.stamp(
                        h.execution_completed(
                            completion.event_id, completion.status, completion.result, completion.details
                        ),
                        now,
                    )
                )
                commit.status, commit.output = completion.status, completion.result
                self._notify_parent(instance_id, completion, commit)
                self.log.info(f"Orchestration '{name}' {completion.status.lower()} instance={instance_id}")
            history.append(h.orchestrator_completed(now))
        self.store.commit_episode(commit)

    def _notify_parent(self, instance_id: str, completion: Any, commit: EpisodeCommit) -> None:
        started = next((e for e in commit.history if e["EventType"] == h.EXECUTION_STARTED), None) or next(
            e for e in self.store.history(instance_id) if e["EventType"] == h.EXECUTION_STARTED
        )
        parent = started.get("ParentInstance")
        if not parent or commit.messages is None:
            return
        task_id = parent["TaskScheduleId"]
        if completion.status == "Completed":
            event = h.sub_orchestration_completed(task_id, completion.result)
        else:
            event = h.sub_orchestration_failed(task_id, completion.result, completion.details)
        target = parent["OrchestrationInstance"]
        commit.messages.append(
            (target["InstanceId"], target["ExecutionId"], commit.updated, h.stamp(event, commit.updated))
        )

    # --- activities ----------------------------------------------------------------------------

    async def _run_activity(self, item: WorkItem, slots: asyncio.Semaphore) -> None:
        try:
            async with slots:
                event = await self._execute_activity(item)
            self.store.finish_work_item(item, event, self.clock.now())
        except Exception as exc:  # a host bug: keep the work item, it is retried on the next start
            self.log.error(f"Activity work item {item.id} ({item.name}) failed in the host: {exc!r}")
            return
        self._inflight.discard(item.id)
        self.wake()

    async def _execute_activity(self, item: WorkItem) -> dict[str, Any]:
        info = self.functions.get(item.name)
        if info is None or info.trigger_type != ACTIVITY_TRIGGER:
            reason = f"The function '{item.name}' doesn't exist, is disabled, or is not an activity function."
            return h.task_failed(item.task_id, reason, None)
        invocation_id = new_invocation_id()
        began = time.perf_counter()
        try:
            args = activity_args(info, item.input, WorkerContext(invocation_id, info.name, self._app_dir))
            if info.client_param:
                args[info.client_param] = self.client_binding
            if info.is_async:
                result = await info.fn(**args)
            else:
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._activity_pool, functools.partial(info.fn, **args))
            event = h.task_completed(item.task_id, encode_activity_result(result))
        except Exception as exc:
            reason, details = activity_failure(info.name, exc)
            self.log.error(f"Executed 'Functions.{info.name}' failed: {reason} instance={item.instance_id}")
            event = h.task_failed(item.task_id, reason, details)
        self.log.executed(info.name, event["EventType"] == h.TASK_COMPLETED, invocation_id, began, item.instance_id)
        return event
