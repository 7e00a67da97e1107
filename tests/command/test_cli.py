"""``kubelink`` against a running world: exit codes, parsed ``-o json``/``-o yaml``, a failed run naming Azure's
code, a refused body naming every bad field. The tests run in order on one world (the link they provision is
reused)."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
import yaml
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web.models import StringDictionary

from tests.command.conftest import EXAMPLE, KUBELINK, Cli, kubelink, kubelink_env

COMMANDS = ("apply", "get", "describe", "drift", "plan", "verify", "delete")
TAMPERED = "10.240.16.77"


def tamper_setting(cli: Cli, value: str) -> None:
    """Change the link's app setting through ARM, as a person would."""
    web = cli.client.sdk(WebSiteManagementClient)
    settings = dict(web.web_apps.list_application_settings("apps-rg", "kubelink-demo").properties or {})
    settings["PrivateAddress"] = value
    web.web_apps.update_application_settings("apps-rg", "kubelink-demo", StringDictionary(properties=settings))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str, tmp_path: Path) -> None:
    result = kubelink(command, "--help", cwd=tmp_path)
    assert result.code == 0, result
    assert f"Example: kubelink {command}" in result.out


def test_a_refused_body_exits_2_naming_every_bad_field_and_starts_nothing(cli: Cli, tmp_path: Path) -> None:
    bad = json.loads(EXAMPLE.read_text())
    bad["kubernetes"]["ports"][0]["port"] = 70000
    bad["gateway"]["clientAddressPool"] = "not-a-cidr"
    del bad["subscriptionId"]
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps(bad))
    result = cli("apply", "-f", str(spec), "--wait")
    assert result.code == 2, result
    assert "InvalidLinkSpec" in result.err
    for field in ("kubernetes.ports[0].port", "gateway.clientAddressPool", "subscriptionId"):
        assert field in result.err
    assert cli("get", "-o", "json").json() == {"value": []}


def test_a_body_from_standard_input_is_judged_as_written(cli: Cli) -> None:
    result = cli("plan", "-f", "-", stdin=b'{"name": "orders-api", "name": "other"}')
    assert result.code == 2, result
    assert "InvalidLinkSpec" in result.err and "name" in result.err


def test_apply_wait_follows_the_five_steps_and_exits_0(cli: Cli) -> None:
    result = cli("apply", "-f", str(EXAMPLE), "--wait")
    assert result.code == 0, result
    for step in ("service", "gateway", "pointToSite", "vnetIntegration", "appSetting"):
        assert f"{step}=done" in result.out  # the last progress line: every step done
    assert "Completed: link orders-api → 10.240.16.25" in result.out
    assert "Ensuring internal load-balancer Service default/orders-internal" in result.out


def test_get_lists_the_link_as_json_and_yaml(cli: Cli) -> None:
    listed = cli("get", "-o", "json")
    assert listed.code == 0, listed
    [link] = listed.json()["value"]
    assert link["name"] == "orders-api" and link["privateAddress"] == "10.240.16.25"
    ready = next(c for c in link["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    one = cli("get", "orders-api", "-o", "yaml")
    assert one.code == 0 and yaml.safe_load(one.out) == link
    table = cli("get")
    assert table.code == 0 and "orders-api" in table.out and "10.240.16.25" in table.out


def test_an_unknown_link_exits_1_with_kubelinks_code(cli: Cli) -> None:
    result = cli("describe", "no-such-link")
    assert result.code == 1, result
    assert "LinkNotFound" in result.err


def test_verify_finds_a_drift_made_through_arm(cli: Cli) -> None:
    healthy = cli("verify", "orders-api", "--wait")
    assert healthy.code == 0, healthy
    assert "healthy" in healthy.out
    tamper_setting(cli, TAMPERED)
    drifted = cli("verify", "orders-api", "--wait")
    assert drifted.code == 3, drifted
    assert "appSettings.PrivateAddress" in drifted.out and TAMPERED in drifted.out
    records = cli("drift", "orders-api", "-o", "json").json()["value"]
    assert any(r["field"] == "appSettings.PrivateAddress" and r["actual"] == TAMPERED for r in records), records
    described = cli("describe", "orders-api")
    assert described.code == 0 and "Ready False" in described.out and TAMPERED in described.out
    assert "kube-rg/kube-vnet-gw-pip" in described.out and "default/orders-internal" in described.out


def test_plan_shows_the_setting_it_would_put_back(cli: Cli) -> None:
    result = cli("plan", "-f", str(EXAMPLE))
    assert result.code == 0, result
    assert f"appSettings.PrivateAddress: {TAMPERED} → 10.240.16.25" in result.out
    assert "0 to create, 1 to update" in result.out
    changes = cli("plan", "-f", str(EXAMPLE), "-o", "json").json()["changes"]
    assert [c["action"] for c in changes if c["step"] == "appSetting"] == ["update"]


def test_a_failed_run_exits_1_with_azures_code_and_message(cli: Cli) -> None:
    cli.client.inject(
        method="PUT",
        pathPattern="/config/appsettings$",
        status=403,
        times=1,
        body={"error": {"code": "AuthorizationFailed", "message": "No write on Microsoft.Web/sites/config (test)."}},
    )
    try:
        failed = cli("apply", "-f", str(EXAMPLE), "--wait")
    finally:
        cli.client.clear_faults()
    assert failed.code == 1, failed
    assert (
        "Failed at step appSetting: AuthorizationFailed: No write on Microsoft.Web/sites/config (test)." in failed.out
    )
    repaired = cli("apply", "-f", str(EXAMPLE), "--wait")
    assert repaired.code == 0, repaired
    assert "appSetting       updated" in repaired.out


def _slow_down_the_next_run(cli: Cli) -> None:
    """A converged run takes a second; one 429 (Retry-After: 4) on the gateway read keeps it going a few more."""
    cli.client.inject(
        method="GET",
        pathPattern="/virtualNetworkGateways/kube-vnet-gw$",
        status=429,
        times=1,
        headers={"Retry-After": "4"},
    )


def test_apply_wait_follows_the_run_already_going(cli: Cli) -> None:
    _slow_down_the_next_run(cli)
    started = cli("apply", "-f", str(EXAMPLE))
    assert started.code == 0 and "Accepted. Follow it: " in started.out, started
    followed = cli("apply", "-f", str(EXAMPLE), "--wait")
    assert followed.code == 0, followed
    assert "Link orders-api has a run under way (provisioning or teardown): following that run" in followed.err
    assert "Completed: link orders-api" in followed.out


def test_ctrl_c_stops_following_not_the_run(cli: Cli) -> None:
    _slow_down_the_next_run(cli)
    following = subprocess.Popen(
        [str(KUBELINK), "apply", "-f", str(EXAMPLE), "--wait"],
        cwd=cli.folder,
        env=kubelink_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert following.stdout is not None
    first = following.stdout.readline()  # the run has started and is being followed
    assert "[" in first, first
    following.send_signal(signal.SIGINT)
    _, err = following.communicate(timeout=30)
    assert following.returncode == 130, err
    assert "Stopped following; the run goes on: " in err
    uri = err.split("the run goes on: ", 1)[1].split()[0]
    assert cli.client.follow(uri, timeout=60).status["runtimeStatus"] == "Completed"
