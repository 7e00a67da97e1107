"""Benchmark: how soon drift from someone else's ARM write is visible through kubelink's API (prints figures).

In the local world with ARM's events wired to the host (as ``make run`` has them) and no sweep scheduled:
provision the example link, then ``--changes`` times change its app setting through ARM as another
principal would, and time from the write's answer until ``GET /api/links/{name}/drift`` shows the record.
Between changes kubelink re-converges the link (its own write, which starts nothing). Prints each latency,
the median and the max.

    python -m benchmarks.drift_latency [--changes 20] [--settle-seconds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from local.world_client import WorldClient

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "link.json"
NO_SCHEDULED_SWEEP = "0 0 0 1 1 *"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--settle-seconds", type=int, default=2, help="KUBELINK_EVENT_SETTLE_SECONDS")
    args = parser.parse_args()
    from azure.mgmt.web import WebSiteManagementClient
    from azure.mgmt.web.models import StringDictionary

    from local.supervisor import World

    settings = {
        "KUBELINK_VERIFY_SCHEDULE": NO_SCHEDULED_SWEEP,
        "KUBELINK_EVENT_SETTLE_SECONDS": str(args.settle_seconds),
    }
    with (
        tempfile.TemporaryDirectory(prefix="kubelink-bench-") as state,
        World(Path(state), host_port=None, settings=settings) as world,
    ):
        world.ensure("host")
        client = WorldClient(world.describe())
        link = json.loads(EXAMPLE.read_text())
        name, app = link["name"], link["app"]
        setting = app.get("setting", "PrivateAddress")
        client.completed("/api/links", link, timeout=3600)
        someone = client.sdk(WebSiteManagementClient)  # the sandbox's admin: someone else than kubelink
        latencies: list[float] = []
        for change in range(args.changes):
            seen = len(client.get(f"/api/links/{name}/drift")["value"])
            listed = someone.web_apps.list_application_settings(app["resourceGroup"], app["name"])
            current = dict(listed.properties or {})
            current[setting] = f"10.9.9.{change + 1}"
            someone.web_apps.update_application_settings(
                app["resourceGroup"], app["name"], StringDictionary(properties=current)
            )
            written = time.monotonic()
            latency = _until_drift(client, name, seen, written)
            latencies.append(latency)
            print(f"change {change + 1:2d}: drift visible after {latency:.2f} s")
            client.follow(client.instance_status_uri(f"verify-link-{name}"), timeout=120)
            client.completed("/api/links", link, timeout=600)  # kubelink puts the setting back
        print(
            f"drift latency over {len(latencies)} changes: median {statistics.median(latencies):.2f} s, "
            f"max {max(latencies):.2f} s (settle {args.settle_seconds} s)"
        )


def _until_drift(client: WorldClient, name: str, seen: int, since: float, timeout: float = 120) -> float:
    while True:
        records: list[dict[str, Any]] = client.get(f"/api/links/{name}/drift")["value"]
        if len(records) > seen:
            return time.monotonic() - since
        if time.monotonic() - since > timeout:
            raise TimeoutError(f"no drift record for {name} {timeout:.0f} s after the change")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
