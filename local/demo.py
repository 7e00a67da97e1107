"""``make demo``: kubelink's main job on the local world, start to finish, as a user would see it.

Starts the world (Azurite, etcd + kube-apiserver, the ARM sandbox, the local Functions host) through the
supervisor, POSTs ``examples/link.json``, follows ``statusQueryGetUri`` printing each step as it changes,
prints the output, calls the app's probe through the private path, verifies the link, changes the app
setting behind kubelink's back (through ARM with the SDK, as a person would), verifies again, prints the
drift record, then moves the link to today's recommended path (``integration: regional``: no gateway) and
probes again, and stops everything. Exits 0 only if every one of those happened as described.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "link.json"
TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")
#: what the demo writes behind kubelink's back: an address in the VNet where nothing listens
TAMPERED_ADDRESS = "10.240.16.99"
#: the subnet delegated to App Service when the link moves to regional integration
REGIONAL_SUBNET = {"name": "app-subnet", "prefix": "10.240.32.0/27"}


class DemoFailed(Exception):
    """Something the demo claims did not happen: it says what, and the demo exits non-zero."""


def say(text: str = "") -> None:
    print(text, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", type=Path, default=REPO / ".local", help="default: .local in the repo")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for each orchestration")
    args = parser.parse_args(argv)
    from local.supervisor import StartError, World

    say("Starting the local world (Azurite, etcd + kube-apiserver, ARM sandbox, Functions host)…")
    try:
        world = World.start(args.state_dir)
    except StartError as failure:
        say(f"FAILED: the local world did not start: {failure}")
        return 1
    with world:
        try:
            Demo(world.describe(), args.timeout).run()
        except (DemoFailed, requests.RequestException) as failure:
            say(f"\nFAILED: {failure}")
            return 1
        finally:
            say("\nStopping the local world…")
    say("Demo complete.")
    return 0


class Demo:
    """The demo's steps against a running world (``world.json``'s content)."""

    def __init__(self, world: dict[str, Any], timeout: float) -> None:
        self.world = world
        self.host: str = world["host"]
        self.timeout = timeout
        self.link: dict[str, Any] = json.loads(EXAMPLE.read_text())
        self.name: str = self.link["name"]
        self.http = requests.Session()
        self.http.trust_env = False  # a machine-wide REQUESTS_CA_BUNDLE would override verify
        self.http.verify = world["caBundle"]

    def run(self) -> None:
        say(f"\n1. POST {self.host}/api/links with {EXAMPLE.relative_to(REPO)} (link {self.name!r})")
        status = self.follow(self.start("/api/links", json=self.link), self.print_steps)
        if status["runtimeStatus"] != "Completed":
            raise DemoFailed(f"provisioning ended {status['runtimeStatus']}: {json.dumps(status.get('output'))}")
        say(f"\n2. Output:\n{_indent(status['output'])}")
        self.probe()
        say(f"\n4. Verifying link {self.name}: POST /api/links/{self.name}/verify")
        healthy = self.verify()
        if healthy.get("ready") is not True or healthy.get("drift"):
            raise DemoFailed(f"the fresh link did not verify healthy: {json.dumps(healthy)}")
        say("   healthy: every check matched, no drift")
        setting = self.link["app"].get("setting", "PrivateAddress")
        before = self.tamper(setting)
        say(f"\n5. Someone changes app setting {setting} from {before} to {TAMPERED_ADDRESS} through ARM (SDK)")
        say(f"\n6. Verifying link {self.name} again")
        drifted = self.verify()
        wanted = [r for r in drifted.get("drift") or [] if r["field"].endswith(setting)]
        if drifted.get("ready") is not False or not wanted:
            raise DemoFailed(f"verification did not report the changed setting: {json.dumps(drifted)}")
        stored = self.get(f"/api/links/{self.name}/drift")["value"]
        found = [r for r in stored if r["detectedAt"] == drifted["verifiedAt"]]
        if not any(r["field"].endswith(setting) and r["actual"] == TAMPERED_ADDRESS for r in found):
            raise DemoFailed(f"GET /api/links/{self.name}/drift has no record of the change: {json.dumps(stored)}")
        say(f"   drift records (GET /api/links/{self.name}/drift):\n{_indent(found)}")
        ready = next(c for c in self.get(f"/api/links/{self.name}")["conditions"] if c["type"] == "Ready")
        say(f"   link condition Ready={ready['status']} ({ready['reason']}): {ready['message']}")
        self.move_to_regional()

    def move_to_regional(self) -> None:
        """The same link re-submitted with ``integration: regional`` (README "Which integration path?")."""
        moved = {**self.link, "integration": "regional", "app": {**self.link["app"], "subnet": REGIONAL_SUBNET}}
        say(f"\n7. Today's path: POST the same link with integration regional, app.subnet {REGIONAL_SUBNET}")
        status = self.follow(self.start("/api/links", json=moved), self.print_steps)
        if status["runtimeStatus"] != "Completed":
            raise DemoFailed(f"moving to regional ended {status['runtimeStatus']}: {json.dumps(status.get('output'))}")
        say(f"   output:\n{_indent(status['output'])}")
        self.probe(8)

    # --- the steps' mechanics ---------------------------------------------------------------------

    def start(self, path: str, **body: Any) -> str:
        """POST a starter; its 202 check-status body gives the status URL to follow."""
        response = self.http.post(f"{self.host}{path}", timeout=30, **body)
        if response.status_code != 202:
            raise DemoFailed(f"POST {path} answered {response.status_code}: {response.text}")
        uri: str = response.json()["statusQueryGetUri"]
        say(f"   202 Accepted; following {uri}")
        return uri

    def follow(self, uri: str, show: Callable[[Any], None]) -> dict[str, Any]:
        """Poll the status URL until the run ends, showing each new customStatus."""
        deadline = time.monotonic() + self.timeout
        shown: Any = None
        while True:
            status: dict[str, Any] = self.http.get(uri, timeout=30).json()
            custom = status.get("customStatus")
            if custom and custom != shown:
                show(custom)
                shown = custom
            if status["runtimeStatus"] in TERMINAL:
                return status
            if time.monotonic() > deadline:
                raise DemoFailed(f"{uri} still {status['runtimeStatus']} after {self.timeout:.0f} s")
            time.sleep(0.5)

    def print_steps(self, custom: dict[str, Any]) -> None:
        states = " ".join(f"{step}={state}" for step, state in custom.get("steps", {}).items())
        say(f"   [{custom.get('step') or '-':15}] {custom.get('message')}  ({states})")

    def probe(self, number: int = 3) -> None:
        site = self.world["sites"][self.link["app"]["name"]]
        url = f"{site}{self.link['probe']['path']}"
        say(f"\n{number}. The app's probe: GET {url}")
        answer = self.http.get(url, timeout=30)
        say(f"   {answer.status_code}: {answer.text.strip()[:200]}")
        if answer.status_code != self.link["probe"].get("expectStatus", 200):
            raise DemoFailed(f"the app did not reach the private service: {answer.status_code}")

    def verify(self) -> dict[str, Any]:
        status = self.follow(
            self.start(f"/api/links/{self.name}/verify"), lambda custom: say(f"   {custom.get('message')}")
        )
        if status["runtimeStatus"] != "Completed":
            raise DemoFailed(f"verification ended {status['runtimeStatus']}: {json.dumps(status.get('output'))}")
        output: dict[str, Any] = status["output"]
        return output

    def get(self, path: str) -> Any:
        response = self.http.get(f"{self.host}{path}", timeout=30)
        if response.status_code != 200:
            raise DemoFailed(f"GET {path} answered {response.status_code}: {response.text}")
        return response.json()

    def tamper(self, setting: str) -> str | None:
        """Edit the app setting the way a person would: list, change one value, PUT them all back."""
        from azure.mgmt.web import WebSiteManagementClient
        from azure.mgmt.web.models import StringDictionary

        from kubelink.clients import StaticTokenCredential

        web = WebSiteManagementClient(
            StaticTokenCredential(),
            self.world["subscriptionId"],
            base_url=self.world["arm"],
            credential_scopes=["https://management.azure.com/.default"],
            connection_verify=self.world["caBundle"],
        )
        group, app = self.link["app"]["resourceGroup"], self.link["app"]["name"]
        settings = dict(web.web_apps.list_application_settings(group, app).properties or {})
        before = settings.get(setting)
        settings[setting] = TAMPERED_ADDRESS
        web.web_apps.update_application_settings(group, app, StringDictionary(properties=settings))
        return before


def _indent(value: Any) -> str:
    return "\n".join(f"   {line}" for line in json.dumps(value, indent=2).splitlines())


if __name__ == "__main__":
    sys.exit(main())
