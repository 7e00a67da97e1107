"""Step ``appSetting``: the app setting holding the private address, merged into the app's other settings.

``PUT config/appsettings`` replaces them all, so the body is always list → merge → PUT, and the PUT is
skipped when the value already matches. Some backends answer the PUT with 202 + ``Location`` (docs/azure.md
§11), which azure-mgmt-web 11.x reports as an error: that answer is followed to its end here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.arm import wait_accepted
from activities.contract import Payload, outcome, run_activity
from activities.observe import observe_app_settings, web
from kubelink.desired.app_setting import diff_app_setting, merged_app_settings
from kubelink.diff import ResourceChange
from kubelink.errors import TransientError
from kubelink.progress import Step

if TYPE_CHECKING:
    from azure.mgmt.web import WebSiteManagementClient

    from kubelink.spec import LinkSpec

STEP = Step.APP_SETTING
ACCEPTED_WAIT_SECONDS = 60

bp = df.Blueprint()


def plan_app_setting(spec: LinkSpec, value: str, client: WebSiteManagementClient | None = None) -> ResourceChange:
    return _setting_change(spec, observe_app_settings(spec, client), value)


def _setting_change(spec: LinkSpec, settings: dict[str, str], value: str) -> ResourceChange:
    resource = f"{spec.app_id}/config/appsettings"
    return ResourceChange(STEP, resource, spec.app.setting in settings, diff_app_setting(spec, settings, value))


@bp.activity_trigger(input_name="payload")
def ensure_app_setting(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "value"}``: set the link's app setting to ``value`` without losing any other setting."""
    return run_activity(STEP, payload, _ensure_app_setting)


def _ensure_app_setting(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    value = str(payload["value"])
    client = web(spec)
    settings = observe_app_settings(spec, client)
    change = _setting_change(spec, settings, value)
    if change.changes:
        _replace_settings(client, spec, merged_app_settings(spec, settings, value))
    return outcome(change)


def _replace_settings(client: WebSiteManagementClient, spec: LinkSpec, settings: dict[str, str]) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.web.models import StringDictionary

    try:
        client.web_apps.update_application_settings(
            spec.app.resource_group, spec.app.name, StringDictionary(properties=settings)
        )
    except HttpResponseError as exc:
        response: Any = exc.response
        location = response.headers.get("Location") if response is not None else None
        if exc.status_code != 202 or not location:
            raise
        if not wait_accepted(client, location, ACCEPTED_WAIT_SECONDS):
            raise TransientError(
                "AppSettingsUpdatePending",
                f"app {spec.app.name} accepted its new settings but did not apply them in {ACCEPTED_WAIT_SECONDS} s",
                step=STEP,
                resource=f"{spec.app_id}/config/appsettings",
            ) from None
