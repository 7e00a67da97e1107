"""Desired state of every resource a link owns: pure bodies, normalisation and diffs, no I/O.

One module per concern (``service``, ``gateway``, ``vnet_integration``, ``app_setting``, ``preflight``).
An activity observes the platform into a ``*State``, asks ``diff_*`` what differs and writes only that;
plan and drift call the same ``observe_*`` and ``diff_*`` and write nothing, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ArmState:
    """A resource as ARM returns it (REST JSON), or None where ARM answered 404: the base of every ARM-backed
    state, so ``exists`` and ``provisioning_state`` are read one way."""

    body: Mapping[str, Any] | None = field(repr=False)

    @property
    def exists(self) -> bool:
        return self.body is not None

    @property
    def provisioning_state(self) -> str | None:
        return dig(self.body, "properties", "provisioningState")


def dig(body: Mapping[str, Any] | None, *path: str) -> Any:
    """``body[a][b]…``, or None where a level is missing: ARM and Kubernetes omit empty fields."""
    value: Any = body
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
