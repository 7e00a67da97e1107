"""``local.settings.json`` and ``host.json``, read the way Core Tools and the Functions host read them."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_HUB = "TestHubName"
_SETTING = re.compile(r"%([^%]+)%")


class SettingsError(Exception):
    """A settings file Core Tools would refuse."""


@dataclass(frozen=True)
class LocalSettings:
    values: dict[str, str] = field(default_factory=dict)
    host: dict[str, Any] = field(default_factory=dict)
    connection_strings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> LocalSettings:
        """A missing file is fine (Core Tools warns); an encrypted one cannot be used without its key."""
        if not path.is_file():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
        if raw.get("IsEncrypted"):
            raise SettingsError(f"{path}: IsEncrypted is true; run 'func settings decrypt' first")
        values = {str(k): "" if v is None else str(v) for k, v in (raw.get("Values") or {}).items()}
        return cls(
            values=values, host=dict(raw.get("Host") or {}), connection_strings=raw.get("ConnectionStrings") or {}
        )

    def apply(self, environ: dict[str, str] | os._Environ[str], log: Callable[[str], None]) -> dict[str, str | None]:
        """Export ``Values`` without overriding the environment, as Core Tools does; return what to restore."""
        previous: dict[str, str | None] = {}
        for key, value in self.values.items():
            if environ.get(key):
                log(f"Skipping '{key}' from local settings as it's already defined in current environment variables.")
                continue
            previous[key] = environ.get(key)
            environ[key] = value
        return previous


def resolve(expression: str, environ: Mapping[str, str]) -> str:
    """Binding expressions ``%NAME%`` are app-setting lookups; an unknown name is a startup error."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise SettingsError(f"'%{name}%' does not resolve to an app setting value.")
        return environ[name]

    return _SETTING.sub(lookup, expression)


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    hub_name: str = DEFAULT_HUB
    max_concurrent_activities: int = 10 * (os.cpu_count() or 1)
    max_concurrent_orchestrators: int = 10 * (os.cpu_count() or 1)

    @classmethod
    def load(cls, path: Path) -> HostConfig:
        if not path.is_file():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
        extensions = raw.get("extensions") or {}
        http = extensions.get("http") or {}
        durable = extensions.get("durableTask") or {}
        base = cls()
        return cls(
            route_prefix=str(http.get("routePrefix", base.route_prefix)).strip("/"),
            hub_name=str(durable.get("hubName") or base.hub_name),
            max_concurrent_activities=int(
                durable.get("maxConcurrentActivityFunctions") or base.max_concurrent_activities
            ),
            max_concurrent_orchestrators=int(
                durable.get("maxConcurrentOrchestratorFunctions") or base.max_concurrent_orchestrators
            ),
        )
