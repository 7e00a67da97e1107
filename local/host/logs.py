"""One line per event on stdout, Functions-host style, stamped with the host clock."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from local.host import history as h
from local.host.clock import Clock


class HostLog:
    def __init__(self, clock: Clock, stream: TextIO | None = None) -> None:
        self._clock = clock
        self._stream = stream
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(f"{h.format_status_time(self._clock.now())} {text}\n")
            stream.flush()

    def info(self, text: str) -> None:
        self._write(text)

    def warning(self, text: str) -> None:
        self._write(f"Warning: {text}")

    def error(self, text: str) -> None:
        self._write(f"Error: {text}")

    def executed(self, name: str, succeeded: bool, invocation_id: str, began: float, instance_id: str | None) -> None:
        """The host's ``Executed 'Functions.X' (Succeeded, Id=..., Duration=Nms)`` line, plus the instance id."""
        duration = round((time.perf_counter() - began) * 1000)
        outcome = "Succeeded" if succeeded else "Failed"
        suffix = f" instance={instance_id}" if instance_id else ""
        self._write(f"Executed 'Functions.{name}' ({outcome}, Id={invocation_id}, Duration={duration}ms){suffix}")
