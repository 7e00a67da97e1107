"""Links that share a resource, written at once: no writer loses another's update.

Each test releases its writers together (a barrier) against the in-process sandbox, whose Microsoft.Web answers
as fast as it always does, and repeats the round so that a race window, if there is one, shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from activities.app_setting import ensure_app_setting
from kubelink.clients import web_client
from tests.activities.helpers import Arm
from tests.activities.specs import SUBSCRIPTION, payload

RACERS = 6
ROUNDS = 4
SEEDED = {"WEBSITE_NODE_DEFAULT_VERSION": "~20", "Greeting": "hello"}


def at_once(activity: Callable[[dict[str, Any]], dict[str, Any]], payloads: list[dict[str, Any]]) -> list[Any]:
    """Run ``activity`` for every payload in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(payloads))

    def run(one: dict[str, Any]) -> dict[str, Any]:
        barrier.wait()
        return activity(one)

    with ThreadPoolExecutor(len(payloads)) as pool:
        return list(pool.map(run, payloads))


def app_settings() -> dict[str, str]:
    listed = web_client(SUBSCRIPTION).web_apps.list_application_settings("apps-rg", "kubelink-demo")
    return dict(listed.as_dict()["properties"])


def test_six_links_on_one_app_keep_every_setting(arm: Arm):
    for round_ in range(ROUNDS):
        wanted = {f"Race{i}Address": f"10.240.16.{10 * round_ + i + 4}" for i in range(RACERS)}
        payloads = [{**payload(app={"setting": name}), "value": value} for name, value in wanted.items()]
        results = at_once(ensure_app_setting, payloads)
        assert all(r["ok"] for r in results), results
        assert {r["result"] for r in results} == {"created" if round_ == 0 else "updated"}
        assert app_settings() == {**SEEDED, **wanted}, f"round {round_}: a concurrent link's setting was lost"
