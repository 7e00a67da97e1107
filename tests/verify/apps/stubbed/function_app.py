"""Fixture app: the real verification orchestrators over stub activities whose answers depend on the link's name.

``healthy-*`` matches, ``drifted-*`` has a changed app setting, ``unreachable-*`` fails its probe, ``fixme-*`` is
drifted with ``remediate: true``, ``broken-*`` can't be read (permanent error), ``flaky-*`` is throttled once,
``slow-*`` takes two seconds. The real drift timer is registered too (its schedule comes from the settings).
Every stub appends what it was given to ``<HOST_TEST_DIR>/<activity>.jsonl``; ``verify_link_config`` also
tracks how many run at once.
"""

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from api import verify_timer
from orchestrators import verify_link, verify_sweep

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (verify_link.bp, verify_sweep.bp, verify_timer.bp):
    app.register_functions(blueprint)

_lock = threading.Lock()
_running = {"now": 0, "max": 0}
SETTINGS = "/subscriptions/s/resourceGroups/apps-rg/providers/Microsoft.Web/sites/demo/config/appsettings"


def _log(activity: str, payload: Any) -> int:
    path = Path(os.environ["HOST_TEST_DIR"]) / f"{activity}.jsonl"
    with _lock:
        with path.open("a") as out:
            out.write(json.dumps(payload) + "\n")
        return len(path.read_text().splitlines())


def _spec(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "app": {"name": "demo", "resourceGroup": "apps-rg"},
        "probe": {"path": "/api/privatestuff", "expectStatus": 200},
        "remediate": name.startswith("fixme-"),
    }


@app.activity_trigger(input_name="payload")
def list_verifiable_links(payload: Any) -> dict[str, Any]:
    return {"ok": True, "result": [name for name in os.environ["STUB_LINKS"].split(",") if name]}


@app.activity_trigger(input_name="payload")
def verify_link_config(payload: dict[str, Any]) -> dict[str, Any]:
    name = payload["name"]
    calls = _log("verify_link_config", payload)
    with _lock:
        _running["now"] += 1
        _running["max"] = max(_running["max"], _running["now"])
        Path(os.environ["HOST_TEST_DIR"], "max_running").write_text(str(_running["max"]))
    time.sleep(2.0 if name.startswith("slow-") else 0.05)
    with _lock:
        _running["now"] -= 1
    if name.startswith("broken-"):
        return {"ok": False, "error": {"code": "AuthorizationFailed", "message": "no read access", "transient": False}}
    if name.startswith("flaky-") and calls == 1:
        error = {"code": "TooManyRequests", "message": "throttled", "transient": True, "retryAfter": 0.1}
        return {"ok": False, "error": error}
    fields = []
    if name.startswith(("drifted-", "fixme-")):
        fields = [
            {
                "field": "appSettings.PrivateAddress",
                "op": "change",
                "expected": "10.240.16.25",
                "actual": "10.240.16.99",
            }
        ]
    row = {"step": "appSetting", "resource": SETTINGS, "action": "update" if fields else "none", "fields": fields}
    return {"ok": True, "result": {"spec": _spec(name), "privateAddress": "10.240.16.25", "checks": [row]}}


@app.activity_trigger(input_name="payload")
def probe_link(payload: dict[str, Any]) -> dict[str, Any]:
    status = 502 if payload["spec"]["name"].startswith("unreachable-") else 200
    url = "https://127.0.0.1:9999/api/privatestuff"
    return {"ok": True, "result": {"url": url, "expectStatus": 200, "status": status, "latencyMs": 3.0}}


@app.activity_trigger(input_name="payload")
def remediate_link(payload: dict[str, Any]) -> dict[str, Any]:
    _log("remediate_link", payload)
    return {"ok": True, "result": {"instanceId": f"link-{payload['spec']['name']}", "started": True}}


@app.activity_trigger(input_name="payload")
def record_verification(payload: dict[str, Any]) -> dict[str, Any]:
    _log("record_verification", payload)
    return {"ok": True, "result": {"records": len(payload.get("records", []))}}
