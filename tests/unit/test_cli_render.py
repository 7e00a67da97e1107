"""The ``kubelink`` command's pure pieces: the step view's elapsed times, a Failed run's parsed output, the plan
diff as text (the command itself runs against a world in tests/command)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from kubelink_cli.client import RunFailure
from kubelink_cli.render import StepsView, plan_diff


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _text(renderable: object) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(renderable)
    return console.export_text()


def _steps(**states: str) -> dict[str, str]:
    return {
        step: states.get(step, "pending")
        for step in ("service", "gateway", "pointToSite", "vnetIntegration", "appSetting")
    }


def test_a_step_counts_from_when_it_was_seen_running_to_when_it_was_seen_done() -> None:
    clock = Clock()
    view = StepsView(clock)
    view.update({"step": "service", "steps": _steps(service="running"), "message": "Ensuring the Service"})
    clock.now += 75
    view.update({"step": "gateway", "steps": _steps(service="done", gateway="running"), "message": "Polling"})
    clock.now += 12
    rows = {line.split()[0]: line.split()[1:] for line in _text(view).splitlines()[1:]}
    assert rows["service"] == ["done", "1m15s"]
    assert rows["gateway"] == ["running", "12s", "Polling"]
    assert rows["appSetting"] == ["pending"]
    assert view.line().startswith(" 1m27s [gateway        ] Polling  (service=done gateway=running")


def test_a_step_done_before_it_was_seen_shows_no_time() -> None:
    view = StepsView(Clock())
    view.update({"step": "appSetting", "steps": _steps(service="done", appSetting="running"), "message": "m"})
    rows = {line.split()[0]: line.split()[1:] for line in _text(view).splitlines()[1:]}
    assert rows["service"] == ["done"]
    assert rows["appSetting"][:2] == ["running", "0s"]


def test_a_failed_runs_output_gives_the_step_and_azures_code_and_message() -> None:
    status = {
        "runtimeStatus": "Failed",
        "output": "Orchestrator function 'provision_link' failed: "
        '{"step": "gateway", "code": "VpnGatewayProvisioningFailed", '
        '"message": "No capacity {zone 2}", "resource": "gw"}',
    }
    assert RunFailure.of(status) == RunFailure("gateway", "VpnGatewayProvisioningFailed", "No capacity {zone 2}", "gw")
    assert RunFailure.of({"runtimeStatus": "Terminated", "output": "by the operator"}) == RunFailure(
        "", "Terminated", "by the operator", ""
    )


def test_the_plan_diff_shows_each_field_from_actual_to_expected() -> None:
    arm = "/subscriptions/s/resourceGroups/apps-rg/providers/Microsoft.Web/sites/kubelink-demo/config/appsettings"
    changes: list[dict[str, Any]] = [
        {"step": "service", "resource": "default/orders-internal", "action": "create", "fields": []},
        {
            "step": "appSetting",
            "resource": arm,
            "action": "update",
            "fields": [{"field": "appSettings.PrivateAddress", "expected": "10.240.16.25", "actual": None}],
        },
        {"step": "gateway", "resource": "gw", "action": "none", "fields": []},
    ]
    text = _text(plan_diff(changes))
    assert "+ service          default/orders-internal (create)" in text
    assert "~ appSetting       sites/kubelink-demo/config/appsettings (update)" in text
    assert "    appSettings.PrivateAddress: — → 10.240.16.25" in text
    assert "1 to create, 1 to update, 1 unchanged" in text
