"""Drift records and the Ready verdict from check differences and the probe's answer."""

from kubelink.diff import DiffItem, ResourceChange, path
from kubelink.drift import (
    DriftRecord,
    ProbeOutcome,
    change_from_json,
    drift_records,
    mark_remediated,
    remediable,
    restarts_app,
    verdict,
)

AT = "2026-01-01T00:00:00Z"
SETTINGS = "/subscriptions/s/resourceGroups/apps-rg/providers/Microsoft.Web/sites/demo/config/appsettings"


def _setting_changed() -> ResourceChange:
    return ResourceChange(
        "appSetting", SETTINGS, True, (DiffItem("change", path("PrivateAddress"), "10.9.9.9", "10.240.16.25"),)
    )


def test_one_config_record_per_differing_field() -> None:
    gateway = ResourceChange(
        "pointToSite",
        "gw",
        True,
        (
            DiffItem("add", path("rootCertificate"), None, "MIIC"),
            DiffItem("change", path("vpnClientProtocols"), ["IkeV2"], ["SSTP"]),
        ),
    )
    records = drift_records(
        "orders", AT, [_setting_changed(), gateway, ResourceChange("service", "svc", True, ())], None
    )
    assert [r.to_json() for r in records] == [
        {
            "link": "orders",
            "detectedAt": AT,
            "kind": "config",
            "resource": SETTINGS,
            "field": "PrivateAddress",
            "expected": "10.240.16.25",
            "actual": "10.9.9.9",
            "remediated": False,
            "restartsApp": True,  # an app-setting write restarts the app
            "ownership": None,
        },
        {
            "link": "orders",
            "detectedAt": AT,
            "kind": "config",
            "resource": "gw",
            "field": "rootCertificate",
            "expected": "MIIC",
            "actual": None,
            "remediated": False,
            "restartsApp": False,
            "ownership": None,
        },
        {
            "link": "orders",
            "detectedAt": AT,
            "kind": "config",
            "resource": "gw",
            "field": "vpnClientProtocols",
            "expected": ["SSTP"],
            "actual": ["IkeV2"],
            "remediated": False,
            "restartsApp": False,
            "ownership": None,
        },
    ]


def test_failed_probe_is_one_connectivity_record_with_status_or_reason() -> None:
    url = "https://127.0.0.1:8443/api/privatestuff"
    refused = ProbeOutcome(url, 200, None, 3.2, "ConnectionError")
    bad_gateway = ProbeOutcome(url, 200, 502, 12.0)
    (first,) = drift_records("orders", AT, [], refused)
    (second,) = drift_records("orders", AT, [], bad_gateway)
    assert (first.kind, first.resource, first.field, first.expected, first.actual) == (
        "connectivity",
        url,
        "status",
        200,
        "ConnectionError",
    )
    assert second.actual == 502


def test_missing_resource_is_one_exists_record_not_one_per_field() -> None:
    deleted = ResourceChange(
        "service", "default/orders", False, (DiffItem("add", path("spec.type"), None, "LoadBalancer"),)
    )
    (record,) = drift_records("orders", AT, [deleted], None)
    assert (record.resource, record.field, record.expected, record.actual) == ("default/orders", "exists", True, False)


def test_healthy_link_has_no_record_and_is_ready() -> None:
    ok = ProbeOutcome("https://h/api/p", 200, 200, 5.0)
    records = drift_records("orders", AT, [ResourceChange("service", "svc", True, ())], ok)
    assert records == []
    assert verdict(records).ready and verdict(records).reason == "Verified"


def test_verdict_names_fields_and_prefers_connectivity() -> None:
    records = drift_records("orders", AT, [_setting_changed()], ProbeOutcome("https://h/p", 200, 503, 1.0))
    result = verdict(records)
    assert (result.ready, result.reason, result.severity) == (False, "Unreachable", "Error")
    assert result.message == (
        "The app does not reach the private service (GET https://h/p: 503); drifted: PrivateAddress"
    )
    assert verdict(records[:1]).reason == "Drifted"


def test_remediated_records_say_so_and_the_verdict_is_remediating() -> None:
    records = mark_remediated(drift_records("orders", AT, [_setting_changed()], None))
    assert all(r.remediated for r in records)
    assert (verdict(records).reason, verdict(records).severity) == ("Remediating", "Warning")


def test_records_and_probe_round_trip_through_json() -> None:
    (record,) = drift_records("orders", AT, [_setting_changed()], None)
    assert DriftRecord.from_json(record.to_json()) == record
    probe = ProbeOutcome("https://h/p", 204, None, 2.5, "ReadTimeout")
    assert ProbeOutcome.from_json(probe.to_json()) == probe
    for change in (_setting_changed(), ResourceChange("service", "svc", False, ())):
        assert change_from_json(change.to_json()) == change


# --- remediation policy: what restarts the app -------------------------------------------------------


def test_fixes_that_write_the_apps_settings_or_integration_restart_it():
    app = "/subscriptions/s/resourceGroups/apps-rg/providers/Microsoft.Web/sites/demo"
    assert restarts_app(f"{app}/config/appsettings")
    assert restarts_app(f"{app}/networkConfig/virtualNetwork")
    assert restarts_app(f"{app}/virtualNetworkConnections/kube-vnet/gateways/primary")
    assert not restarts_app(
        "/subscriptions/s/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworkGateways/gw"
    )
    assert not restarts_app("default/orders-internal")


def test_the_safe_policy_fixes_only_configuration_that_does_not_restart_the_app():
    setting = DriftRecord(
        "l", "t", "config", "/x/sites/a/config/appsettings", "appSettings.P", "1", "2", restarts_app=True
    )
    service = DriftRecord("l", "t", "config", "default/svc", "spec.type", "LoadBalancer", "ClusterIP")
    probe = DriftRecord("l", "t", "connectivity", "https://a/p", "status", 200, 500)
    assert not remediable([setting, probe], "safe")  # a failed probe alone starts nothing: its cause restarts
    assert remediable([setting, service, probe], "safe")
    assert remediable([setting], "all") and not remediable([service], "none")
    marked = mark_remediated([setting, service, probe], "safe")
    assert [r.remediated for r in marked] == [False, True, False]
    assert all(r.remediated for r in mark_remediated([setting, service, probe]))
    assert setting.to_json()["restartsApp"] is True and DriftRecord.from_json(setting.to_json()) == setting
    assert "leaves appSettings.P, status to you" in verdict(marked).message


def test_records_say_whether_kubelink_owns_the_resource():
    changes = [_setting_changed(), ResourceChange("service", "default/svc", False, ())]
    owned = {SETTINGS: "adopted", "default/svc": "owned"}
    records = drift_records("orders", AT, changes, None, owned)
    assert [(r.resource, r.ownership) for r in records] == [(SETTINGS, "adopted"), ("default/svc", "owned")]
    assert DriftRecord.from_json(records[0].to_json()) == records[0]
