"""The private-address app setting: merge, never drop (pure)."""

from __future__ import annotations

from kubelink.desired.app_setting import diff_app_setting, merged_app_settings
from tests.activities.specs import link_spec

SETTINGS = {"WEBSITE_NODE_DEFAULT_VERSION": "~20", "Greeting": "hello"}


def test_absent_setting_is_added_and_others_kept():
    spec = link_spec()
    (change,) = diff_app_setting(spec, SETTINGS, "10.240.16.25")
    assert (change.op, change.field_text, change.old, change.new) == (
        "add",
        "appSettings.PrivateAddress",
        None,
        "10.240.16.25",
    )
    assert merged_app_settings(spec, SETTINGS, "10.240.16.25") == {**SETTINGS, "PrivateAddress": "10.240.16.25"}


def test_equal_value_is_no_change_and_a_different_one_is_a_change():
    spec = link_spec(app={"setting": "Backend"})
    assert diff_app_setting(spec, {**SETTINGS, "Backend": "10.0.0.1"}, "10.0.0.1") == ()
    (change,) = diff_app_setting(spec, {**SETTINGS, "Backend": "10.0.0.9"}, "10.0.0.1")
    assert (change.op, change.old) == ("change", "10.0.0.9")
