"""Issue 4 end to end: a fresh link over HTTP through the local host, against the sandbox and the real apiserver.

The tests of this module share one world and run in order: the fresh link, then its converged re-run.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import yaml

from kubelink.progress import STEPS
from tests.e2e.conftest import Kubelink, example
from tests.e2e.replay import assert_replays_deterministically

GATEWAY_PUT = re.compile(r"/providers/Microsoft\.Network/virtualNetworkGateways/[^/]+$", re.I)


def test_bad_bodies_get_400_naming_each_field_and_start_nothing(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    bad = example(name="X", gateway={"clientAddressPool": "8.8.8.0/24"}, surprise=True)
    response = kubelink.post_link(bad)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidLinkSpec"
    fields = {d["field"] for d in error["details"]}
    assert {"name", "gateway.clientAddressPool", "surprise"} <= fields
    not_json = kubelink.http.post(f"{kubelink.host}/api/links", data=b"{nope", timeout=30)
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "InvalidLinkSpec"
    assert kubelink.instances() == []
    assert kubelink.arm_requests() == []


def test_scope_outside_the_allowed_ones_gets_403(kubelink: Kubelink) -> None:
    response = kubelink.post_link(example(subscriptionId="11111111-2222-3333-4444-555555555555"))
    assert response.status_code == 403
    assert "KUBELINK_ALLOWED_SCOPES" in response.json()["error"]["message"]
    assert kubelink.instances() == []


def test_fresh_link_provisions_through_transient_faults(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    # Azure throttles and hiccups: a 429 with Retry-After on the gateway read, a 500 on the app settings list
    kubelink.inject(
        **{
            "method": "GET",
            "pathPattern": "virtualNetworkGateways/[^/]+$",
            "status": 429,
            "times": 2,
            "headers": {"Retry-After": "1"},
            "body": {"error": {"code": "TooManyRequests", "message": "Throttled"}},
        }
    )
    kubelink.inject(
        **{
            "method": "POST",
            "pathPattern": "config/appsettings/list$",
            "status": 500,
            "times": 1,
            "body": {"error": {"code": "InternalServerError", "message": "Try again"}},
        }
    )
    started = kubelink.post_link(example())
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == started.json()["statusQueryGetUri"]
    assert started.json()["id"] == "link-orders-api"

    busy = kubelink.post_link(example())  # a second POST while the first runs
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "LinkBusy"
    assert busy.json()["error"]["statusQueryGetUri"] == started.json()["statusQueryGetUri"]

    status, seen = kubelink.follow(started.json()["statusQueryGetUri"])
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"] == {
        "name": "orders-api",
        "privateAddress": "10.240.16.25",
        "steps": {step: "created" for step in STEPS},
    }
    # customStatus moved through the steps in the README's order, never back, and ended with all of them done
    order = [STEPS.index(s["step"]) for s in seen if s.get("step") in STEPS]
    assert order == sorted(order) and {0, 1} <= set(order)  # the IP and gateway waits are long enough to see
    assert all(set(s["steps"]) == set(STEPS) and s["message"] for s in seen)
    assert status["customStatus"]["steps"] == dict.fromkeys(STEPS, "done")

    gateway_puts = [w for w in kubelink.arm_writes() if w["method"] == "PUT" and GATEWAY_PUT.search(w["path"])]
    assert len(gateway_puts) == 1, gateway_puts


def test_the_app_reaches_the_service_privately(kubelink: Kubelink) -> None:
    answer = kubelink.probe("kubelink-demo", "/api/privatestuff")
    assert answer.status_code == 200, answer.text
    settings = _app_settings(kubelink)
    assert settings["PrivateAddress"] == "10.240.16.25"
    assert settings["Greeting"] == "hello" and settings["WEBSITE_NODE_DEFAULT_VERSION"] == "~20"


def test_link_record_is_ready(kubelink: Kubelink) -> None:
    record = kubelink.link("orders-api")
    assert record["privateAddress"] == "10.240.16.25"
    ready = next(c for c in record["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert record["lastProvisioned"]
    listed = kubelink.get("/api/links")["value"]
    assert [r["name"] for r in listed] == ["orders-api"]


def test_no_secret_reaches_status_output_or_history(kubelink: Kubelink) -> None:
    url = kubelink.instance_status_uri("link-orders-api")
    shown = kubelink.http.get(
        url, params={"showHistory": "true", "showHistoryOutput": "true", "showInput": "true"}, timeout=30
    ).text
    token = yaml.safe_load(Path(kubelink.world.kubeconfig).read_text())["users"][0]["user"]["token"]
    blob = kubelink.web().web_apps.get_vnet_connection("apps-rg", "kubelink-demo", "kube-vnet").cert_blob
    assert blob and blob[:40] not in shown
    assert token not in shown and "BEGIN CERTIFICATE" not in shown and "certBlob" not in shown
    log = (Path(kubelink.world.state_dir) / "logs" / "host.log").read_text()
    assert token not in log and blob[:40] not in log


def test_every_recorded_history_replays_deterministically(kubelink: Kubelink) -> None:
    episodes = assert_replays_deterministically(Path(kubelink.world.host.work), "link-orders-api")
    assert episodes >= 10  # every step, every poll


def test_second_post_of_a_converged_link_writes_nothing(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    kube_writes_before = kubelink.kube_writes()
    status, _ = kubelink.provision(example())
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["steps"] == {step: "unchanged" for step in STEPS}
    assert kubelink.arm_writes() == []
    assert kubelink.kube_writes() == kube_writes_before


def test_concurrent_posts_start_one_run(kubelink: Kubelink) -> None:
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(kubelink.post_link(example()).status_code)) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [202, 409, 409, 409]
    status, _ = kubelink.follow(kubelink.instance_status_uri("link-orders-api"))
    assert status["runtimeStatus"] == "Completed"


def _app_settings(kubelink: Kubelink) -> dict[str, str]:
    return dict(kubelink.web().web_apps.list_application_settings("apps-rg", "kubelink-demo").properties or {})
