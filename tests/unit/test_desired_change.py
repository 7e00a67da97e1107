"""ResourceChange: one plan row, one activity result (pure)."""

from __future__ import annotations

from kubelink.desired import dig
from kubelink.diff import DiffItem, ResourceChange, path

CHANGE = DiffItem("change", path("properties.sku.name"), "VpnGw1AZ", "VpnGw2AZ")


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
        "fields": [{"field": "properties.sku.name", "op": "change", "expected": "VpnGw2AZ", "actual": "VpnGw1AZ"}],
    }


def test_dig_tolerates_missing_levels():
    assert dig({"a": {"b": 1}}, "a", "b") == 1
    assert dig({"a": None}, "a", "b") is None
    assert dig(None, "a") is None


def test_field_path_renders_once_and_parses_back():
    odd = DiffItem("add", ("properties", "delegations", "Microsoft.Web/serverFarms", 0, "name"), None, "x")
    assert odd.field_text == "properties.delegations[Microsoft.Web/serverFarms][0].name"
    assert DiffItem.from_json(odd.to_json()) == odd


def test_op_survives_json_even_when_values_look_like_another_op():
    """A change from a value to None is a ``remove``; a ``change`` to a falsy value stays a ``change``."""
    for item in (DiffItem("remove", path("a.b"), "x", None), DiffItem("change", path("a.b"), 0, False)):
        assert DiffItem.from_json(item.to_json()) == item
