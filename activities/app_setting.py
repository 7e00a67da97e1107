"""Step ``appSetting``: the app setting holding the private address, merged into the app's other settings.

``PUT config/appsettings`` replaces them all and takes no ETag, so every writer of an app's settings goes through
``edit_app_settings``: under the app's lease (``adapters.lease``), list → edit → PUT → list again, so that links
writing one app at once never drop each other's settings, and a run reports only what is really there (README
"Concurrent links"). The PUT is skipped when the value already matches. Some backends answer the PUT with 202 +
``Location`` (docs/azure.md §11), which azure-mgmt-web 11.x reports as an error: that answer is followed to its
end here, inside the lease.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.arm import wait_accepted
from activities.contract import Payload, deferred, outcome, restart_allowed, run_activity
from activities.observe import observe_app_settings, web
from adapters.lease import exclusive
from kubelink.desired.app_setting import diff_app_setting, merged_app_settings
from kubelink.diff import ResourceChange
from kubelink.errors import TransientError
from kubelink.progress import Step

if TYPE_CHECKING:
    from azure.mgmt.web import WebSiteManagementClient

    from kubelink.spec import LinkSpec

STEP = Step.APP_SETTING
ACCEPTED_WAIT_SECONDS = 60
EDIT_ATTEMPTS = 3  # a write someone outside kubelink overwrote at once is made again, this many times in all

Settings = dict[str, str]

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
    if not restart_allowed(payload):  # remediate "safe": a settings write restarts the app, so only report it
        change = _setting_change(spec, observe_app_settings(spec), value)
        if change.changes:
            return deferred(change)
    found = edit_app_settings(spec, lambda settings: merged_app_settings(spec, settings, value))
    return outcome(_setting_change(spec, found, value))


def edit_app_settings(spec: LinkSpec, edit: Callable[[Settings], Settings]) -> Settings:
    """Apply ``edit`` (settings → settings, pure) to the app's settings without losing anyone's: list, edit, PUT
    when it changes something, list again, all under the app's lease. Returns the settings the edit was applied to.

    Every kubelink writer of an app's settings uses this (provisioning, remediation, teardown). Raises
    TransientError ``AppSettingsNotApplied`` when the settings read back keep lacking the edit.
    """
    client = web(spec)
    resource = f"{spec.app_id}/config/appsettings"
    for _ in range(EDIT_ATTEMPTS):
        with exclusive(resource):
            before = observe_app_settings(spec, client)
            wanted = edit(before)
            if wanted == before:
                return before
            _replace_settings(client, spec, wanted)
            after = observe_app_settings(spec, client)
        if edit(after) == after:  # the edit is there (and someone else's settings written meanwhile stay)
            return before
    raise TransientError(
        "AppSettingsNotApplied",
        f"app {spec.app.name} kept losing kubelink's change to its settings: something else rewrites them at once",
        step=STEP,
        resource=resource,
    )


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
