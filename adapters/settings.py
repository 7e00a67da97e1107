"""Typed reading of kubelink's app settings (README, "Settings").

Each setting is read when it is needed, not all at once, so a bad value of one (say the drift schedule)
never blocks the others (say starting a link). A bad value raises ``InvalidSetting`` naming the setting
and the fix; an empty value counts as unset, as the portal can't delete a setting's value. No message
ever echoes a kubeconfig.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kubelink.errors import PermanentError

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

ALLOWED_SCOPES = "KUBELINK_ALLOWED_SCOPES"
ARM_ENDPOINT = "KUBELINK_ARM_ENDPOINT"
POLL_SECONDS = "KUBELINK_POLL_SECONDS"
VERIFY_SCHEDULE = "KUBELINK_VERIFY_SCHEDULE"
VERIFY_CONCURRENCY = "KUBELINK_VERIFY_CONCURRENCY"
DRIFT_RETENTION_DAYS = "KUBELINK_DRIFT_RETENTION_DAYS"

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_POLL_SECONDS = 60
DEFAULT_VERIFY_SCHEDULE = "0 */15 * * * *"
DEFAULT_VERIFY_CONCURRENCY = 10
DEFAULT_DRIFT_RETENTION_DAYS = 30

SCOPES_HOWTO = (
    f"Set the app setting {ALLOWED_SCOPES} to a comma-separated list of ARM scopes kubelink may touch, "
    "e.g. /subscriptions/{subscriptionId} or /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}."
)

_SCOPE = re.compile(
    r"/subscriptions/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"(?:/resourceGroups/[\w\-.()]{0,89}[\w\-()])?",
    re.IGNORECASE,
)


class InvalidSetting(PermanentError):
    """An app setting is missing or malformed: retrying can't help until someone fixes the setting."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__("InvalidSetting", f"The app setting {setting} {message}", resource=setting)


def _get(name: str, env: Mapping[str, str] | None) -> str:
    return (os.environ if env is None else env).get(name, "").strip()


# --- scopes ----------------------------------------------------------------------------------


def allowed_scopes(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The ARM scopes requests may touch; empty when unset, which refuses every request."""
    scopes = []
    for item in _get(ALLOWED_SCOPES, env).split(","):
        scope = item.strip().rstrip("/")
        if not scope:
            continue
        if not _SCOPE.fullmatch(scope):
            raise InvalidSetting(
                ALLOWED_SCOPES,
                f"has an entry that is not a subscription or resource group scope: {scope!r}. {SCOPES_HOWTO}",
            )
        scopes.append(scope)
    return tuple(scopes)


def check_scopes(spec: LinkSpec, allowed: Iterable[str]) -> list[str]:
    """The scopes ``spec`` touches that ``allowed`` does not cover (case-insensitive; a subscription covers
    its resource groups). Empty means the request may go on."""
    covering = [scope.lower() for scope in allowed]
    refused: list[str] = []
    for scope in spec.scopes:
        wanted = scope.lower()
        covered = any(wanted == a or wanted.startswith(a + "/") for a in covering)
        if not covered and wanted not in (r.lower() for r in refused):
            refused.append(scope)
    return refused


def scopes_refusal(refused: list[str], allowed: tuple[str, ...]) -> str:
    """The sentence a 403 carries: what was refused and how to allow it."""
    if not allowed:
        return f"{ALLOWED_SCOPES} is not set, so kubelink refuses every request. {SCOPES_HOWTO}"
    return (
        f"The link touches {', '.join(refused)}, outside the scopes allowed by {ALLOWED_SCOPES} "
        f"({', '.join(allowed)}). {SCOPES_HOWTO}"
    )


# --- ARM ---------------------------------------------------------------------------------------


def arm_endpoint(env: Mapping[str, str] | None = None) -> str:
    """The ARM base URL without a trailing slash; HTTPS only, since bearer tokens never travel in clear."""
    value = _get(ARM_ENDPOINT, env) or DEFAULT_ARM_ENDPOINT
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise InvalidSetting(ARM_ENDPOINT, f"must be an https:// URL such as {DEFAULT_ARM_ENDPOINT}, got {value!r}")
    return value.rstrip("/")


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` names this machine (127.0.0.0/8, ::1, localhost): the local sandbox, never Azure."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- timing --------------------------------------------------------------------------------------


def _int_setting(name: str, default: int, low: int, high: int, env: Mapping[str, str] | None) -> int:
    raw = _get(name, env)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InvalidSetting(name, f"must be a whole number from {low} to {high}, got {raw!r}")
    return value


def poll_seconds(env: Mapping[str, str] | None = None) -> int:
    """Seconds between polls of a gateway's provisioningState or a Service's IP."""
    return _int_setting(POLL_SECONDS, DEFAULT_POLL_SECONDS, 1, 3600, env)


def verify_concurrency(env: Mapping[str, str] | None = None) -> int:
    """How many links one verification sweep checks at a time (bounded: ARM throttles per principal)."""
    return _int_setting(VERIFY_CONCURRENCY, DEFAULT_VERIFY_CONCURRENCY, 1, 100, env)


def drift_retention_days(env: Mapping[str, str] | None = None) -> int:
    """Days a torn-down link's drift history is kept (0: purged by the next sweep)."""
    return _int_setting(DRIFT_RETENTION_DAYS, DEFAULT_DRIFT_RETENTION_DAYS, 0, 3650, env)


# --- kubeconfig ----------------------------------------------------------------------------------


def kubeconfig(setting: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The kubeconfig held by the app setting ``setting`` (a spec's ``kubernetes.kubeconfigSetting``)."""
    raw = _get(setting, env)
    if not raw:
        raise InvalidSetting(
            setting,
            "is not set: put the cluster's kubeconfig in it (YAML, or base64 of it), "
            "or name another setting in kubernetes.kubeconfigSetting",
        )
    return load_kubeconfig(raw, f"the app setting {setting}")


def load_kubeconfig(raw: str | bytes, source: str) -> dict[str, Any]:
    """Parse a kubeconfig given as YAML or as base64 of YAML. YAML always has a ':', base64 never does."""
    import yaml  # lazily: only activities that talk to a cluster need it

    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if ":" not in text:
        try:
            text = base64.b64decode("".join(text.split()), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _bad_kubeconfig(source, "is neither YAML nor base64 of YAML") from None
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        raise _bad_kubeconfig(source, "is not valid YAML") from None
    if not isinstance(config, dict) or not config.get("clusters") or not config.get("contexts"):
        raise _bad_kubeconfig(source, "is not a kubeconfig: it needs 'clusters' and 'contexts'")
    return config


def _bad_kubeconfig(source: str, problem: str) -> PermanentError:
    return PermanentError("InvalidKubeconfig", f"The kubeconfig in {source} {problem}")
