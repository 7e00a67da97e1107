"""Which ARM events concern a link (kubelink/events.py): the pure filter in front of the event index."""

from __future__ import annotations

from datetime import UTC, datetime

from kubelink.events import ACTION_SUCCESS, DELETE_SUCCESS, WRITE_SUCCESS, arm_change, link_dependencies
from kubelink.spec import LinkSpec
from tests.example import example_link

SUB = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"
APP = f"{SUB}/resourceGroups/apps-rg/providers/Microsoft.Web/sites/kubelink-demo"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_child_resource_is_matched_by_its_top_level_resource() -> None:
    change = arm_change(
        WRITE_SUCCESS, f"{APP}/config/appsettings", AT, {"operationName": "Microsoft.Web/sites/config/write"}
    )
    assert change is not None and change.resource == APP.lower() and change.event_time == AT


def test_reads_by_action_and_other_event_types_are_dropped() -> None:
    listed = {"operationName": "Microsoft.Web/sites/config/list/action", "status": "Succeeded"}
    assert arm_change(ACTION_SUCCESS, f"{APP}/config/appsettings", AT, listed) is None
    health = {"operationName": "Microsoft.Network/virtualNetworkGateways/getvpnclientconnectionhealth/action"}
    assert arm_change(ACTION_SUCCESS, APP, AT, health) is None
    restart = {"operationName": "Microsoft.Web/sites/restart/action"}
    assert arm_change(ACTION_SUCCESS, APP, AT, restart) is not None
    assert arm_change("Microsoft.Resources.ResourceWriteFailure", APP, AT, {}) is None
    assert arm_change(WRITE_SUCCESS, f"{SUB}/resourceGroups/apps-rg", AT, {}) is None  # a group is no dependency
    assert arm_change(DELETE_SUCCESS, APP, AT, {"status": "Failed"}) is None
    assert arm_change(DELETE_SUCCESS, APP, None, {}) is None


def test_dependencies_follow_the_integration_path() -> None:
    gateway = LinkSpec.from_json(example_link())
    names = {d.rsplit("/", 2)[-2] for d in link_dependencies(gateway)}
    assert names == {"virtualnetworks", "sites", "virtualnetworkgateways", "publicipaddresses"}
    regional = LinkSpec.from_json(
        example_link(
            integration="regional", app={**example_link()["app"], "subnet": {"name": "s", "prefix": "10.240.32.0/26"}}
        )
    )
    assert {d.rsplit("/", 2)[-2] for d in link_dependencies(regional)} == {"virtualnetworks", "sites"}
    assert all(d == d.lower() for d in link_dependencies(gateway))
