"""ensure_app_setting against the sandbox: merge, never lose a setting, write only when the value differs."""

from __future__ import annotations

from activities.app_setting import ensure_app_setting
from adapters.clients import web_client
from tests.activities.helpers import Arm
from tests.activities.specs import SUBSCRIPTION, link_spec, payload

SETTINGS_PATH = "/sites/kubelink-demo/config/appsettings"


def settings() -> dict[str, str]:
    listed = web_client(SUBSCRIPTION).web_apps.list_application_settings("apps-rg", "kubelink-demo")
    return dict(listed.as_dict()["properties"])


def test_setting_is_merged_with_the_others_written_once_and_read_back(arm: Arm):
    link = {**payload(), "value": "10.240.16.25"}
    first = ensure_app_setting(link)
    assert first == {
        "ok": True,
        "result": "created",
        "changes": [{"field": "appSettings.PrivateAddress", "op": "add", "expected": "10.240.16.25", "actual": None}],
        "created": [f"{link_spec().app_id}/config/appsettings"],  # the link's record keeps that it made the setting
    }
    assert settings() == {"WEBSITE_NODE_DEFAULT_VERSION": "~20", "Greeting": "hello", "PrivateAddress": "10.240.16.25"}
    (put,) = arm.arm_writes()
    assert put["path"].endswith(SETTINGS_PATH)

    arm.reset_requests()
    assert ensure_app_setting(link)["result"] == "unchanged"
    assert arm.arm_writes() == []


def test_a_changed_value_is_updated_keeping_settings_added_meanwhile(arm: Arm):
    ensure_app_setting({**payload(), "value": "10.240.16.25"})
    client = web_client(SUBSCRIPTION).web_apps
    client.update_application_settings("apps-rg", "kubelink-demo", {"properties": {**settings(), "Added": "later"}})
    updated = ensure_app_setting({**payload(), "value": "10.240.16.26"})
    assert (updated["result"], updated["changes"][0]["actual"]) == ("updated", "10.240.16.25")
    assert settings() == {
        "WEBSITE_NODE_DEFAULT_VERSION": "~20",
        "Greeting": "hello",
        "Added": "later",
        "PrivateAddress": "10.240.16.26",
    }


def test_other_settings_values_never_reach_the_output(arm: Arm):
    result = ensure_app_setting({**payload(app={"setting": "Backend"}), "value": "10.0.0.1"})
    assert "hello" not in str(result) and "~20" not in str(result)


def test_an_accepted_update_is_followed_to_its_end(arm: Arm):
    site = f"{arm.arm}/subscriptions/{SUBSCRIPTION}/resourceGroups/apps-rg/providers/Microsoft.Web/sites/kubelink-demo"
    arm.inject(
        method="PUT",
        pathPattern=SETTINGS_PATH + "$",
        status=202,
        headers={"Location": f"{site}?api-version=2025-05-01", "Retry-After": "0"},
    )
    accepted = ensure_app_setting({**payload(), "value": "10.240.16.25"})
    assert (accepted["ok"], accepted["result"]) == (True, "created")
    # under the lease: read, PUT (202), its Location followed, read back: the injected 202 applied nothing, so the
    # write is made again (read, PUT, read back) and the run reports only what is really there
    sent = [(e["method"], e["status"]) for e in arm.arm_requests()]
    listed, put, followed = ("POST", 200), ("PUT", 202), ("GET", 200)
    assert sent == [listed, put, followed, listed, listed, ("PUT", 200), listed]
    assert settings()["PrivateAddress"] == "10.240.16.25"
