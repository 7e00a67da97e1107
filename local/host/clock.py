"""Clocks: the host reads time only through one of these, so tests can drive timers without sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """``now()`` is UTC; ``wait_seconds`` says how long (real seconds) to sleep before ``moment`` is reached."""

    def now(self) -> datetime: ...

    def wait_seconds(self, moment: datetime) -> float | None: ...

    def subscribe(self, callback: Callable[[], None]) -> None: ...


class SystemClock:
    """Wall-clock time, optionally running ``scale`` times faster from the moment it is created."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self._scale = scale
        self._origin = datetime.now(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._started) * self._scale)

    def wait_seconds(self, moment: datetime) -> float | None:
        return max(0.0, (moment - self.now()).total_seconds() / self._scale)

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Wall time needs no notifications: the host sleeps until the next due moment."""


class ManualClock:
    """Time that moves only when a test calls ``advance``/``set``; the host wakes on every move."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            moment = self._now
        self._notify()
        return moment

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(UTC)
        self._notify()

    def wait_seconds(self, moment: datetime) -> float | None:
        return 0.0 if moment <= self.now() else None

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
