"""The app setting holding the private address (docs/azure.md §11).

``PUT config/appsettings`` replaces *all* settings, so the body is always the listed settings merged with
ours. Other settings' values are secrets as far as kubelink knows: they are merged, never reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from kubelink.diff import DiffItem, FieldPath

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec


def setting_field(spec: LinkSpec) -> FieldPath:
    return ("appSettings", spec.app.setting)


def setting_value(spec: LinkSpec, private_ip: str) -> str:
    """What the app setting holds: the private DNS name when the link has one (it survives a new IP), else the IP."""
    return spec.dns.fqdn if spec.dns else private_ip


def diff_app_setting(spec: LinkSpec, settings: Mapping[str, str], value: str) -> tuple[DiffItem, ...]:
    """Exact comparison: a setting's value is case-sensitive, unlike ARM names."""
    have = settings.get(spec.app.setting)
    if have == value:
        return ()
    return (DiffItem("add" if have is None else "change", setting_field(spec), have, value),)


def merged_app_settings(spec: LinkSpec, settings: Mapping[str, str], value: str) -> dict[str, str]:
    return {**settings, spec.app.setting: value}
