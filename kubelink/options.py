"""Timing of a link run: poll interval, deadlines and retry backoff.

They travel in the orchestration input (the HTTP starter reads the settings once), because an
orchestrator may not read the environment, and so tests can run a 45-minute gateway in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RunOptions:
    poll_seconds: float = 60
    service_ip_deadline_seconds: float = 15 * 60
    gateway_deadline_seconds: float = 90 * 60
    #: a peering turns Connected seconds after its second side exists (the wait covers a slow PUT of either)
    peering_deadline_seconds: float = 15 * 60
    retry_first_seconds: float = 5
    retry_max_seconds: float = 300
    retry_attempts: int = 6

    def retry_delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff from ``retry_first_seconds``; Azure's ``Retry-After`` wins when longer."""
        backoff = min(self.retry_first_seconds * (2**attempt), self.retry_max_seconds)
        return max(backoff, retry_after or 0)

    def to_json(self) -> dict[str, Any]:
        return {_camel(k): v for k, v in asdict(self).items()}

    @staticmethod
    def from_json(body: dict[str, Any] | None) -> RunOptions:
        known = {_camel(k): k for k in RunOptions.__dataclass_fields__}
        return RunOptions(**{known[k]: v for k, v in (body or {}).items() if k in known})

    @staticmethod
    def for_poll_seconds(poll_seconds: float) -> RunOptions:
        """Production timings, with retries never slower to start than one poll."""
        return RunOptions(poll_seconds=poll_seconds, retry_first_seconds=min(5.0, poll_seconds))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
