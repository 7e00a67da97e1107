"""Timer triggers: NCRONTAB (6 fields, seconds first) or TimeSpan schedules, the schedule monitor and past-due."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter

from local.host.clock import Clock
from local.host.functions import FunctionInfo
from local.host.logs import HostLog
from local.host.taskhub import Store

DEFAULT_TIME = datetime(1, 1, 1, tzinfo=UTC)  # .NET default(DateTime), the monitor's "never"
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class Schedule:
    """``TimerSchedule``: an NCRONTAB expression or a constant TimeSpan interval (App Service plans)."""

    def __init__(self, expression: str) -> None:
        self.expression = expression.strip()
        span = _TIMESPAN.match(self.expression)
        self._interval: timedelta | None = None
        if span:
            days, hours, minutes, seconds = (int(g or 0) for g in span.groups())
            self._interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        else:
            fields = self.expression.split()
            if len(fields) != 6:
                raise ValueError(
                    f"The schedule expression '{self.expression}' was not recognized as a valid cron expression or "
                    "timespan string (NCRONTAB needs 6 fields: second minute hour day month day-of-week)."
                )
            croniter(self.expression, DEFAULT_TIME, second_at_beginning=True)  # validates

    def next_after(self, moment: datetime) -> datetime:
        if self._interval is not None:
            return moment + self._interval
        return croniter(self.expression, moment, second_at_beginning=True).get_next(datetime)

    def monitored(self, start: datetime) -> bool:
        """The host turns the schedule monitor off for schedules firing more often than once a minute."""
        first = self.next_after(start)
        return self.next_after(first) - first >= timedelta(minutes=1)


def _dotnet(moment: datetime) -> str:
    """A ``DateTime`` as Newtonsoft writes it into TimerInfo (default(DateTime) has no offset)."""
    return "0001-01-01T00:00:00" if moment == DEFAULT_TIME else moment.isoformat()


class TimerListener:
    """``TimerListener`` for one function; its ``ScheduleStatus`` survives restarts in the task hub."""

    def __init__(
        self,
        info: FunctionInfo,
        schedule: Schedule,
        *,
        store: Store,
        clock: Clock,
        log: HostLog,
        invoke: Callable[[FunctionInfo, dict[str, Any]], Awaitable[None]],
        wait_until: Callable[[datetime], Awaitable[None]],
    ) -> None:
        self.info = info
        self.schedule = schedule
        self.store = store
        self.clock = clock
        self.log = log
        self._invoke = invoke
        self._wait_until = wait_until
        use_monitor = info.trigger.get("useMonitor")
        self.use_monitor = (use_monitor is None or bool(use_monitor)) and schedule.monitored(clock.now())
        self.status: tuple[datetime, datetime, datetime] | None = None

    async def run(self) -> None:
        now = self.clock.now()
        past_due: datetime | None = None
        if self.use_monitor:
            past_due = self._check_past_due(now)
        if self.status is None:
            self.status = (DEFAULT_TIME, self.schedule.next_after(now), DEFAULT_TIME)
        self.log.info(
            f"Timer '{self.info.name}' schedule '{self.schedule.expression}', next {self.status[1].isoformat()}"
        )
        if past_due is not None:
            await self._fire(self.clock.now(), past_due=True)
        elif self.info.trigger.get("runOnStartup"):
            await self._fire(self.clock.now(), run_on_startup=True)
        while True:
            await self._wait_until(self.status[1])
            await self._fire(self.clock.now())

    def _check_past_due(self, now: datetime) -> datetime | None:
        """``ScheduleMonitor.CheckPastDueAsync``: a missed occurrence while the host was down is past due."""
        stored = self.store.timer_status(self.info.name)
        if stored is None:
            self.status = (DEFAULT_TIME, self.schedule.next_after(now), DEFAULT_TIME)
            self._save(now)
            return None
        last, recorded_next, last_updated = (_parse(v) for v in stored)
        if last != DEFAULT_TIME:
            expected = self.schedule.next_after(last)
        elif last_updated != DEFAULT_TIME:
            expected = self.schedule.next_after(last_updated)
        else:
            expected = recorded_next
        if expected != recorded_next:  # the schedule changed since the status was written
            recorded_next = expected
        self.status = (last, recorded_next, last_updated)
        self._save(now)
        return recorded_next if now > recorded_next else None

    async def _fire(self, invocation_time: datetime, *, past_due: bool = False, run_on_startup: bool = False) -> None:
        assert self.status is not None
        timer_info = {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": (
                {
                    "Last": _dotnet(self.status[0]),
                    "Next": _dotnet(self.status[1]),
                    "LastUpdated": _dotnet(self.status[2]),
                }
                if self.use_monitor
                else None
            ),
            "IsPastDue": past_due,
        }
        reason = " (IsPastDue)" if past_due else " (RunOnStartup)" if run_on_startup else ""
        self.log.info(f"Timer '{self.info.name}' firing{reason}: {json.dumps(timer_info)}")
        try:
            await self._invoke(self.info, timer_info)
        except Exception as exc:  # the listener keeps its schedule whatever the function does
            self.log.error(f"Timer '{self.info.name}' invocation failed: {exc!r}")
        adjusted = invocation_time
        if not past_due and not run_on_startup and self.status[1] > invocation_time:
            adjusted = self.status[1]
        self.status = (adjusted, self.schedule.next_after(adjusted), adjusted)
        if self.use_monitor:
            self._save(adjusted)

    def _save(self, updated: datetime) -> None:
        assert self.status is not None
        last, next_, _ = self.status
        self.store.set_timer_status(self.info.name, last.isoformat(), next_.isoformat(), updated.isoformat())


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def wait_until_clock(clock: Clock, moment: datetime, moved: asyncio.Event) -> None:
    """Sleep (in real time) until ``clock`` reaches ``moment``, waking early when a manual clock moves."""
    while True:
        moved.clear()
        wait = clock.wait_seconds(moment)
        if wait == 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(moved.wait(), timeout=None if wait is None else min(wait, 1.0))
