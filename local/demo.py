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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import requests
from rich.console import Console

from kubelink_cli.client import ApiError
from kubelink_cli.render import follow_run
from local.world_client import WorldClient

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "link.json"
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
        self.client = WorldClient(world)
        self.host = self.client.host
        self.timeout = timeout
        self.console = Console()
        self.link: dict[str, Any] = json.loads(EXAMPLE.read_text())
        self.name: str = self.link["name"]

    def run(self) -> None:
        say(f"\n1. POST {self.host}/api/links with {EXAMPLE.relative_to(REPO)} (link {self.name!r})")
        if self.link.get("gateway", {}).get("allowNewSstp"):
            say(
                "   The link sets gateway.allowNewSstp: Azure's documents say SSTP can no longer be enabled since "
                "2026-03-31, so kubelink refuses a new SSTP gateway unless asked; the demo asks, to show the seed's "
                "whole procedure against the sandbox, and ends by moving the link to regional integration."
            )
        status = self.follow_steps(self.start("/api/links", self.link))
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
        status = self.follow_steps(self.start("/api/links", moved))
        if status["runtimeStatus"] != "Completed":
            raise DemoFailed(f"moving to regional ended {status['runtimeStatus']}: {json.dumps(status.get('output'))}")
        say(f"   output:\n{_indent(status['output'])}")
        self.probe(8)

    # --- the steps' mechanics ---------------------------------------------------------------------

    def start(self, path: str, body: Any = None) -> str:
        """POST a starter; its 202 check-status body gives the status URL to follow."""
        try:
            uri = self.client.start(path, body)
        except ApiError as refused:
            raise DemoFailed(str(refused)) from None
        say(f"   202 Accepted; following {uri}")
        return uri

    def follow(self, uri: str, show: Callable[[Any], None]) -> dict[str, Any]:
        """Poll the status URL until the run ends, showing each new customStatus."""
        try:
            return self.client.follow(uri, self.timeout, on_change=show, interval=0.5).status
        except TimeoutError as late:
            raise DemoFailed(str(late)) from None

    def follow_steps(self, uri: str) -> dict[str, Any]:
        """Follow a provisioning run the way ``kubelink apply --wait`` does: its steps live in a terminal, a line
        per change in a log."""
        try:
            return follow_run(self.client, uri, self.console, self.timeout).status
        except TimeoutError as late:
            raise DemoFailed(str(late)) from None

    def probe(self, number: int = 3) -> None:
        app, path = self.link["app"]["name"], self.link["probe"]["path"]
        say(f"\n{number}. The app's probe: GET {self.client.sites[app]}{path}")
        answer = self.client.probe(app, path)
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
        try:
            return self.client.get(path)
        except RuntimeError as refused:
            raise DemoFailed(str(refused)) from None

    def tamper(self, setting: str) -> str | None:
        """Edit the app setting the way a person would: list, change one value, PUT them all back."""
        from azure.mgmt.web import WebSiteManagementClient
        from azure.mgmt.web.models import StringDictionary

        web = self.client.sdk(WebSiteManagementClient)
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
