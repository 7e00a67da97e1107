"""ResourceChange: one plan row, one activity result (pure)."""

from __future__ import annotations

from kubelink.desired import ResourceChange, dig
from kubelink.diff import DiffItem

CHANGE = DiffItem("change", "properties.sku.name", "VpnGw1AZ", "VpnGw2AZ")


def test_action_and_result_follow_existence_and_changes():
    assert (ResourceChange("gateway", "gw", False, (CHANGE,)).action, ResourceChange("g", "r", False, ()).result) == (
        "create",
        "created",
    )
    assert ResourceChange("gateway", "gw", True, (CHANGE,)).result == "updated"
    assert ResourceChange("gateway", "gw", True, ()).result == "unchanged"


def test_plan_row_shape():
    assert ResourceChange("gateway", "gw", True, (CHANGE,)).to_json() == {
        "step": "gateway",
        "resource": "gw",
        "action": "update",
        "fields": [{"field": "properties.sku.name", "expected": "VpnGw2AZ", "actual": "VpnGw1AZ"}],
    }


def test_dig_tolerates_missing_levels():
    assert dig({"a": {"b": 1}}, "a", "b") == 1
    assert dig({"a": None}, "a", "b") is None
    assert dig(None, "a") is None
