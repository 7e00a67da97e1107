"""The host side of one orchestration episode, modelled on DTFx and the Durable extension.

The real host does not trust the SDK's action list blindly: the extension's ``OutOfProcOrchestrationShim``
replays every action through DTFx's ``TaskOrchestrationContext`` (sequence ids, matching against recorded
history, the ``RetryInterceptor``, Task.WhenAll/WhenAny) while DTFx walks the history events in order.
Ids, retry timers, non-determinism failures and "complete only when no task is open" all fall out of that
walk, so this module reproduces it with a tiny synchronous task model instead of approximating the
outcome from the action list.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Coroutine, Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from local.host import history as h

_NEVER_RETRY = timedelta(days=6)  # the extension's default RetryOptions.MaxRetryInterval


class OrchestrationFailure(Exception):
    """DTFx ``OrchestrationFailureException``: fails the instance with ``reason`` and ``details``."""

    def __init__(self, reason: str, details: str | None) -> None:
        super().__init__(reason)
        self.details = details


class NonDeterminismError(Exception):
    """DTFx ``NonDeterministicOrchestrationException`` (same message prefix)."""

    def __init__(self, details: str) -> None:
        super().__init__("Non-Deterministic workflow detected: " + details)


class TaskFailed(Exception):
    """An awaited durable task failed (activity, sub-orchestration or cancelled timer)."""


class _State(Enum):
    PENDING = 0
    DONE = 1
    FAILED = 2


class Future:
    """A DTFx task: completed by history events, continuations run inline as DTFx's synchronous scheduler does."""

    def __init__(self) -> None:
        self._state = _State.PENDING
        self._value: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Future], None]] = []

    @property
    def done(self) -> bool:
        return self._state is not _State.PENDING

    @property
    def failed(self) -> bool:
        return self._state is _State.FAILED

    @property
    def error(self) -> BaseException | None:
        return self._error

    @property
    def value(self) -> Any:
        return self._value

    def set_result(self, value: Any = None) -> None:
        if self.done:
            return
        self._state, self._value = _State.DONE, value
        self._fire()

    def set_exception(self, error: BaseException) -> None:
        if self.done:
            return
        self._state, self._error = _State.FAILED, error
        self._fire()

    def add_done_callback(self, callback: Callable[[Future], None]) -> None:
        if self.done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def _fire(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def __await__(self) -> Generator[Future, None, Any]:
        if not self.done:
            yield self
        if self._error is not None:
            raise self._error
        return self._value


def spawn(coro: Coroutine[Future, None, Any]) -> Future:
    """Run ``coro`` synchronously until its first pending await (like a C# async method) and return its task."""
    result = Future()

    def step(_: Future | None = None) -> None:
        try:
            awaited = coro.send(None)
        except StopIteration as stop:
            result.set_result(stop.value)
        except Exception as exc:
            result.set_exception(exc)
        else:
            awaited.add_done_callback(step)

    step()
    return result


def when_all(children: list[Future]) -> Future:
    """``Task.WhenAll``: completes once every child has, failing with the first failure."""
    result = Future()
    remaining = len(children)

    def on_child(_: Future) -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            failed = next((c for c in children if c.failed), None)
            if failed is not None and failed.error is not None:
                result.set_exception(failed.error)
            else:
                result.set_result([c.value for c in children])

    if not children:
        result.set_result([])
    for child in children:
        child.add_done_callback(on_child)
    return result


def when_any(children: list[Future]) -> Future:
    """``Task.WhenAny``: completes (never fails) with the first child to complete."""
    result = Future()
    for child in children:
        child.add_done_callback(result.set_result)
    return result


def _never() -> Future:
    """The shim's ``Task.Delay(Infinite)``: keeps the orchestration open until the next episode."""
    return Future()


@dataclass
class NewAction:
    """A decision DTFx records in this episode: a history event to append plus the work it implies."""

    id: int
    event: dict[str, Any]


@dataclass
class Completion:
    """How the execution ended in this episode (DTFx ``OrchestrationCompleteOrchestratorAction``)."""

    status: str  # Completed | Failed | Terminated | ContinuedAsNew
    result: str | None
    details: str | None = None
    event_id: int = -1


@dataclass
class Invocation:
    """What the language worker returned for one orchestrator call."""

    state: dict[str, Any] | None
    error: BaseException | None = None


@dataclass
class EpisodeResult:
    new_events: list[dict[str, Any]]
    completion: Completion | None
    custom_status: str | None
    invoked: bool = False
    open_tasks: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Functions:
    """Names the extension knows, for ``ThrowIfFunctionDoesNotExist``."""

    activities: list[str]
    orchestrators: list[str]

    def check_activity(self, name: str) -> None:
        if name not in self.activities:
            names = "', '".join(self.activities)
            known = (
                f"The following are the known activity functions: '{names}'."
                if self.activities
                else "No activity functions are currently registered!"
            )
            raise ValueError(
                f"The function '{name}' doesn't exist, is disabled, or is not an activity function. "
                f"Additional info: {known}"
            )

    def check_orchestrator(self, name: str) -> None:
        if name not in self.orchestrators:
            raise ValueError(invalid_orchestrator_message(name, self.orchestrators))


def invalid_orchestrator_message(name: str, orchestrators: list[str]) -> str:
    names = "', '".join(orchestrators)
    known = (
        f"The following are the known orchestrator functions: '{names}'."
        if orchestrators
        else "No orchestrator functions are currently registered!"
    )
    return (
        f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
        f"Additional info: {known}"
    )


class EpisodeContext:
    """DTFx ``TaskOrchestrationContext`` plus the extension's ``DurableOrchestrationContext`` event buffering."""

    def __init__(
        self,
        *,
        name: str,
        instance_id: str,
        execution_id: str,
        parent_instance_id: str | None,
        functions: Functions,
        log_warning: Callable[[str], None],
    ) -> None:
        self.name = name
        self.instance_id = instance_id
        self.execution_id = execution_id
        self.parent_instance_id = parent_instance_id
        self.functions = functions
        self.now: datetime = h.EPOCH
        self.log_warning = log_warning
        self._id_counter = 0
        self.actions: dict[int, NewAction] = {}
        self.open_tasks: dict[int, Future] = {}
        self.custom_status: str | None = None
        self.output: str | None = None
        self.continue_as_new: str | None = None
        self.completion: Completion | None = None
        self._waiters: dict[str, list[Future]] = {}
        self._buffered: dict[str, deque[str]] = {}

    def _next_id(self) -> int:
        task_id = self._id_counter
        self._id_counter += 1
        return task_id

    # --- scheduling (TaskOrchestrationContext) -------------------------------------------------

    def schedule_task(self, name: str, input_json: str | None) -> Future:
        task_id = self._next_id()
        self.actions[task_id] = NewAction(task_id, h.task_scheduled(task_id, name, input_json))
        return self._open(task_id)

    def create_timer(self, fire_at: datetime, *, cancelled: bool = False) -> Future:
        task_id = self._next_id()
        self.actions[task_id] = NewAction(task_id, h.timer_created(task_id, fire_at))
        future = self._open(task_id)
        if cancelled:
            del self.open_tasks[task_id]
            future.set_exception(TaskFailed("A task was canceled."))
        return future

    def create_sub_orchestration(self, name: str, instance_id: str | None, input_json: str | None) -> Future:
        task_id = self._next_id()
        child_id = instance_id or f"{self.execution_id}:{task_id}"
        self.actions[task_id] = NewAction(task_id, h.sub_orchestration_created(task_id, name, child_id, input_json))
        return self._open(task_id)

    def _open(self, task_id: int) -> Future:
        future = Future()
        self.open_tasks[task_id] = future
        return future

    def set_continue_as_new(self, input_json: str | None) -> None:
        self.continue_as_new = input_json

    def complete(self, status: str, result: str | None, details: str | None = None) -> None:
        event_id = self._next_id()
        if status == "Completed" and self.continue_as_new is not None:
            self.completion = Completion("ContinuedAsNew", self.continue_as_new, None, event_id)
            return
        if self.completion is not None and self.completion.status != "ContinuedAsNew":
            return
        self.completion = Completion(status, result, details, event_id)

    # --- external events (DurableOrchestrationContext) -----------------------------------------

    def wait_for_external_event(self, name: str) -> Future:
        future = Future()
        self._waiters.setdefault(name, []).append(future)
        buffered = self._buffered.get(name)
        if buffered:
            data = buffered.popleft()
            if not buffered:
                del self._buffered[name]
            self.raise_event(name, data)
        return future

    def raise_event(self, name: str, data: str) -> None:
        waiters = self._waiters.get(name)
        if waiters:
            waiter = waiters.pop()  # the extension keeps waiters on a stack
            if not waiters:
                del self._waiters[name]
            waiter.set_result(data)
        else:
            self._buffered.setdefault(name, deque()).append(data)

    # --- history handlers ----------------------------------------------------------------------

    def on_scheduling_event(self, event: dict[str, Any]) -> None:
        """Match a recorded TaskScheduled/TimerCreated/SubOrchestrationInstanceCreated with this replay."""
        task_id: int = event["EventId"]
        etype = event["EventType"]
        action = self.actions.get(task_id)
        recorded = action.event["EventType"] if action else None
        if etype == h.TASK_SCHEDULED:
            if action is None:
                raise NonDeterminismError(
                    f"A previous execution of this orchestration scheduled an activity task with sequence ID "
                    f"{task_id} and name '{event['Name']}' (version '{event.get('Version', '')}'), but the current "
                    "replay execution hasn't (yet?) scheduled this task. Was a change made to the orchestrator code "
                    "after this instance had already started running?"
                )
            if recorded != h.TASK_SCHEDULED:
                raise NonDeterminismError(
                    f"A previous execution of this orchestration scheduled an activity task with sequence number "
                    f"{task_id} named '{event['Name']}', but the current orchestration replay instead produced a "
                    f"{h.action_class(recorded)} action with this sequence number. Was a change made to the "
                    "orchestrator code after this instance had already started running?"
                )
            if action.event["Name"].lower() != event["Name"].lower():
                raise NonDeterminismError(
                    f"A previous execution of this orchestration scheduled an activity task with sequence number "
                    f"{task_id} named '{event['Name']}', but the current orchestration replay instead scheduled an "
                    f"activity task named '{action.event['Name']}' with this sequence number.  Was a change made to "
                    "the orchestrator code after this instance had already started running?"
                )
        elif etype == h.TIMER_CREATED:
            if action is None:
                raise NonDeterminismError(
                    f"A previous execution of this orchestration scheduled a timer task with sequence number {task_id} "
                    "but the current replay execution hasn't (yet?) scheduled this task. Was a change made to the "
                    "orchestrator code after this instance had already started running?"
                )
            if recorded != h.TIMER_CREATED:
                raise NonDeterminismError(
                    f"A previous execution of this orchestration scheduled a timer task with sequence number {task_id} "
                    f"named but the current orchestration replay instead produced a {h.action_class(recorded)} action "
                    "with this sequence number. Was a change made to the orchestrator code after this instance had "
                    "already started running?"
                )
        else:  # SubOrchestrationInstanceCreated
            what = (
                f"A previous execution of this orchestration scheduled a sub-orchestration task with sequence ID "
                f"{task_id} and name '{event['Name']}' (version '{event.get('Version', '')}', instance ID "
                f"'{event.get('InstanceId')}'), but the current"
            )
            if action is None:
                raise NonDeterminismError(
                    f"{what} replay execution hasn't (yet?) scheduled this task. Was a change made to the orchestrator "
                    "code after this instance had already started running?"
                )
            if recorded != h.SUB_ORCHESTRATION_CREATED:
                raise NonDeterminismError(
                    f"{what} orchestration replay instead produced a {h.action_class(recorded)} action at this "
                    "sequence number. Was a change made to the orchestrator code after this instance had already "
                    "started running?"
                )
            if action.event["Name"].lower() != event["Name"].lower():
                raise NonDeterminismError(
                    f"{what} orchestration replay instead scheduled a sub-orchestration task with name "
                    f"{action.event['Name']} at this sequence number. Was a change made to the orchestrator code "
                    "after this instance had already started running?"
                )
        del self.actions[task_id]

    def on_completion_event(self, event: dict[str, Any]) -> None:
        etype = event["EventType"]
        task_id = event["TimerId"] if etype == h.TIMER_FIRED else event["TaskScheduledId"]
        future = self.open_tasks.pop(task_id, None)
        if future is None:
            self.log_warning(f"Duplicate {h.EVENT_NAMES[etype]} Event: {task_id}")
            return
        if etype in (h.TASK_FAILED, h.SUB_ORCHESTRATION_FAILED):
            future.set_exception(TaskFailed(event.get("Reason") or ""))
        else:
            future.set_result(event.get("Result"))

    @property
    def has_open_tasks(self) -> bool:
        return bool(self.open_tasks)


class _Shim:
    """``OutOfProcOrchestrationShim`` (schema V2/V3): walk the SDK's actions as DF API calls, in order."""

    def __init__(self, ctx: EpisodeContext) -> None:
        self.ctx = ctx

    async def run(self, invocation: Invocation) -> None:
        ctx = self.ctx
        state = invocation.state
        if state is None:
            # The worker failed without an $OutOfProcData$ payload: TaskOrchestrationShim's generic failure.
            error = invocation.error
            raise OrchestrationFailure(
                f"Orchestrator function '{ctx.name}' failed: Exception while executing function: Functions.{ctx.name}",
                f"{type(error).__name__}: {error}" if error else None,
            )
        if state.get("customStatus") is not None:
            ctx.custom_status = h.compact(state["customStatus"])
        actions = state.get("actions") or []
        if state.get("schemaVersion", 0) < 1:
            raise OrchestrationFailure(
                f"Orchestrator function '{ctx.name}' failed: the local host supports only replay schema V2/V3 "
                "(azure-functions-durable >= 1.2)",
                None,
            )
        if len(actions) != 1:
            raise ValueError(
                f"With OOProc schema V{state['schemaVersion'] + 1}, expected actions array to be of length 1 in "
                f"outer layer but got size: {len(actions)}"
            )
        for action in actions[0]:
            task = self.invoke(action)
            with contextlib.suppress(Exception):  # failures are the SDK's to handle; DTFx only keeps in step
                await task
        error = state.get("error")
        if error:
            raise OrchestrationFailure(
                f"Orchestrator function '{ctx.name}' failed: {error}",
                f"Message: {error}, StackTrace: {h.format_traceback(invocation.error)}",
            )
        if state.get("isDone"):
            ctx.output = None if state.get("output") is None else h.compact(state["output"])
            return
        await _never()

    def invoke(self, action: dict[str, Any]) -> Future:
        """``InvokeAPIFromAction``: each DF call allocates ids synchronously, in list order, depth first."""
        ctx = self.ctx
        kind = action.get("actionType")
        if kind in (h.A_CALL_ACTIVITY, h.A_CALL_ACTIVITY_WITH_RETRY):
            return spawn(self._call_activity(action["functionName"], action.get("input"), action.get("retryOptions")))
        if kind in (h.A_CALL_SUB_ORCHESTRATOR, h.A_CALL_SUB_ORCHESTRATOR_WITH_RETRY):
            return spawn(
                self._call_sub(
                    action["functionName"], action.get("instanceId"), action.get("input"), action.get("retryOptions")
                )
            )
        if kind == h.A_CREATE_TIMER:
            return ctx.create_timer(h.parse_time(action["fireAt"]), cancelled=bool(action.get("isCanceled")))
        if kind == h.A_WAIT_FOR_EXTERNAL_EVENT:
            return ctx.wait_for_external_event(action["externalEventName"])
        if kind == h.A_CONTINUE_AS_NEW:
            ctx.set_continue_as_new(h.encode_input(action.get("input")))
            done = Future()
            done.set_result()
            return done
        if kind in (h.A_WHEN_ALL, h.A_WHEN_ANY):
            children = [self.invoke(child) for child in action.get("compoundActions") or []]
            return when_all(children) if kind == h.A_WHEN_ALL else when_any(children)
        raise OrchestrationFailure(
            f"Orchestrator function '{ctx.name}' failed: the local host does not support action type "
            f"{h.ACTION_NAMES.get(int(kind or -1), kind)} (entities and call_http are not emulated)",
            None,
        )

    async def _call_activity(self, name: str, input_: Any, retry: dict[str, Any] | None) -> Any:
        """``CallDurableTaskFunctionAsync`` for activities: validation faults the task, it never throws."""
        ctx = self.ctx
        self._check(ctx.functions.check_activity, name)
        input_json = h.encode_input(input_)
        if retry is None:
            return await ctx.schedule_task(name, input_json)
        return await self._with_retry(retry, lambda: ctx.schedule_task(name, input_json))

    async def _call_sub(self, name: str, instance_id: str | None, input_: Any, retry: dict[str, Any] | None) -> Any:
        ctx = self.ctx
        if instance_id is not None and instance_id.lower() in (
            ctx.instance_id.lower(),
            (ctx.parent_instance_id or "").lower(),
        ):
            raise ValueError(
                "The instance ID of a sub-orchestration must be different than the instance ID of a parent "
                "orchestration."
            )
        if instance_id is not None and instance_id.startswith("@"):
            raise ValueError("Orchestration instance ids must not start with @")
        self._check(ctx.functions.check_orchestrator, name)
        input_json = h.encode_input(input_)
        if retry is None:
            return await ctx.create_sub_orchestration(name, instance_id, input_json)
        return await self._with_retry(retry, lambda: ctx.create_sub_orchestration(name, instance_id, input_json))

    def _check(self, check: Callable[[str], None], name: str) -> None:
        """Log what the real host only traces: an unknown function leaves the SDK waiting forever."""
        try:
            check(name)
        except ValueError as exc:
            self.ctx.log_warning(f"{exc} The orchestration will wait forever, as on the real host.")
            raise

    async def _with_retry(self, options: dict[str, Any], attempt: Callable[[], Future]) -> Any:
        """DTFx ``RetryInterceptor.Invoke`` with the extension's defaults (backoff 1, no timeout)."""
        ctx = self.ctx
        attempts = int(options["maxNumberOfAttempts"])
        first = timedelta(milliseconds=int(options["firstRetryIntervalInMilliseconds"]))
        last_error: BaseException | None = None
        for retry_count in range(attempts):
            try:
                return await attempt()
            except Exception as exc:
                last_error = exc
            if retry_count + 1 == attempts:
                # DTFx keeps an immediate "dummy" timer after the last attempt for replay back-compat.
                await ctx.create_timer(ctx.now)
                break
            delay = min(first, _NEVER_RETRY)
            if delay <= timedelta(0):
                break
            await ctx.create_timer(ctx.now + delay)
        if last_error is not None:
            raise last_error
        return None


def run_episode(
    *,
    past: list[dict[str, Any]],
    new: list[dict[str, Any]],
    ctx: EpisodeContext,
    invoke: Callable[[list[dict[str, Any]], bool], Invocation],
) -> EpisodeResult:
    """``TaskOrchestrationExecutor.ExecuteCore``: replay ``past``, play ``new`` and collect the decisions."""
    result: Future | None = None
    invoked = False

    def process(events: Iterable[dict[str, Any]]) -> None:
        nonlocal result, invoked
        for event in events:
            etype = event["EventType"]
            if etype == h.ORCHESTRATOR_STARTED:
                ctx.now = h.parse_time(event["Timestamp"])
            elif etype == h.EXECUTION_STARTED:
                invoked = True
                shim = _Shim(ctx)
                result = spawn(shim.run(invoke(past + new, bool(past))))
            elif etype in (h.TASK_SCHEDULED, h.TIMER_CREATED, h.SUB_ORCHESTRATION_CREATED):
                ctx.on_scheduling_event(event)
            elif etype in h.COMPLETION_EVENTS:
                ctx.on_completion_event(event)
            elif etype == h.EVENT_RAISED:
                if ctx.continue_as_new is None:
                    ctx.raise_event(event["Name"], event.get("Input") or "null")
            elif etype == h.EXECUTION_TERMINATED:
                ctx.complete("Terminated", event.get("Input"))

    try:
        process(past)
        process(new)
        if not ctx.has_open_tasks and result is not None and result.done:
            if result.failed:
                error = result.error
                if isinstance(error, OrchestrationFailure):
                    ctx.complete("Failed", str(error), error.details)
                else:
                    reason = f"Orchestrator function '{ctx.name}' failed: {error}"
                    ctx.complete("Failed", reason, f"{type(error).__name__}: {error}")
            else:
                ctx.complete("Completed", ctx.output)
    except NonDeterminismError as exc:
        ctx.complete("Failed", str(exc), f"Unhandled exception while executing orchestration: {exc}")

    new_events = [action.event for _, action in sorted(ctx.actions.items())]
    return EpisodeResult(
        new_events=new_events,
        completion=ctx.completion,
        custom_status=ctx.custom_status,
        invoked=invoked,
        open_tasks=len(ctx.open_tasks),
    )
