"""Six links on one app, POSTed at the same moment through the local host (issue 16): every run completes, every
link's setting is on the app with its Service's address, and the app's own settings are kept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import EXAMPLE, Kubelink

RACERS = 6
SEEDED = {"WEBSITE_NODE_DEFAULT_VERSION": "~20", "Greeting": "hello"}


def race_link(i: int) -> dict[str, Any]:
    """A regional link of its own Service and setting, on the shared app (and so the shared subnet)."""
    return {
        "name": f"race-{i}",
        "subscriptionId": EXAMPLE["subscriptionId"],
        "integration": "regional",
        "network": EXAMPLE["network"],
        "kubernetes": {
            "service": f"race-{i}-internal",
            "selector": {"app": f"race-{i}"},
            "ports": [{"port": 80, "targetPort": 8080}],
            "loadBalancerSubnet": "ilb-subnet",
        },
        "app": {
            "resourceGroup": "apps-rg",
            "name": "kubelink-demo",
            "setting": f"Race{i}Address",
            "subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"},
        },
    }


def test_six_links_posted_at_once_on_one_app_keep_every_setting(kubelink: Kubelink) -> None:
    links = [race_link(i) for i in range(RACERS)]
    with ThreadPoolExecutor(RACERS) as pool:
        started = list(pool.map(lambda link: kubelink.start("/api/links", link), links))
        runs = list(pool.map(lambda status_uri: kubelink.follow(status_uri, timeout=300), started))
    outputs = [status["output"] for status, _ in runs]
    assert [status["runtimeStatus"] for status, _ in runs] == ["Completed"] * RACERS, runs
    assert [output["steps"]["appSetting"] for output in outputs] == ["created"] * RACERS
    settings = kubelink.web().web_apps.list_application_settings("apps-rg", "kubelink-demo").properties or {}
    wanted = {f"Race{i}Address": output["privateAddress"] for i, output in enumerate(outputs)}
    assert dict(settings) == {**SEEDED, **wanted}
