"""Teardown's activities against the sandbox where everything is already gone (deleted by hand, or by an earlier
teardown): each answers ok, removes nothing and writes nothing."""

from __future__ import annotations

from activities.teardown import (
    disconnect_app,
    remove_app_setting,
    remove_app_subnet,
    remove_dns,
    remove_shared_gateway,
)
from kubelink.spec import LinkSpec
from tests.activities.helpers import Arm
from tests.activities.specs import payload


def test_resources_already_gone_are_fine_and_nothing_is_written(arm: Arm) -> None:
    link = payload(
        integration="regional",
        app={"subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"}},
        dns={"zone": "kubelink.internal", "record": "orders"},
    )
    spec = LinkSpec.from_json(link["spec"])
    claimed = [spec.gateway_subnet_id, spec.app_subnet_id, f"{spec.app_id}/networkConfig/virtualNetwork"]
    everything = {**link, "ownership": {"created": claimed, "adopted": {}}, "otherLinks": []}
    for activity in (remove_app_setting, disconnect_app, remove_app_subnet, remove_dns, remove_shared_gateway):
        done = activity(everything)
        assert done["ok"], done
        assert (done["removed"], done["restored"], done["pending"]) == ([], [], False), done
    assert arm.arm_writes() == []
