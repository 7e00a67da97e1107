"""Benchmark: one verification sweep over many links in the local world (prints figures; not a test).

Provisions the example link for real, then adds ``--links - 1`` link records that name the same Azure and
Kubernetes resources (as many links sharing one gateway and app would), so every verification does its full
set of reads against the sandbox. Then runs the sweep (``verify_sweep``, as the timer starts it) twice: once
clean, once with ``--throttled`` of the gateway reads answered 429 + ``Retry-After`` by the sandbox, and
prints wall time, ARM requests per link by kind, and how the throttling was absorbed.

    python -m benchmarks.sweep [--links 1000] [--concurrency 10] [--throttled 200]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from local.world_client import WorldClient

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "link.json"
NO_SCHEDULED_SWEEP = "0 0 0 1 1 *"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10, help="KUBELINK_VERIFY_CONCURRENCY for the sweep")
    parser.add_argument("--throttled", type=int, default=200, help="gateway GETs answered 429 in the second sweep")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After of each 429, seconds")
    args = parser.parse_args()
    from local.supervisor import World

    with tempfile.TemporaryDirectory(prefix="kubelink-bench-") as state:
        world = World(Path(state), host_port=None, settings={"KUBELINK_VERIFY_SCHEDULE": NO_SCHEDULED_SWEEP})
        with world:
            started = time.monotonic()
            world.ensure("host")
            print(f"world up in {time.monotonic() - started:.1f} s")
            bench = Bench(world)
            link = json.loads(EXAMPLE.read_text())
            bench.provision(link)
            bench.clone_links(link["name"], args.links - 1)
            print(f"\nsweep over {args.links} links, concurrency {args.concurrency}")
            bench.report(bench.sweep(args.concurrency), args.links)
            fault = {
                "method": "GET",
                "pathPattern": "/virtualNetworkGateways/[^/]+$",
                "status": 429,
                "times": args.throttled,
                "headers": {"Retry-After": str(args.retry_after)},
                "body": {"error": {"code": "TooManyRequests", "message": "Too many requests (sandbox fault)"}},
            }
            bench.inject(**fault)
            print(f"\nsame sweep, first {args.throttled} gateway GETs answered 429 (Retry-After: {args.retry_after})")
            bench.report(bench.sweep(args.concurrency), args.links)


class Bench(WorldClient):
    def __init__(self, world: Any) -> None:
        super().__init__(world.describe())
        self.world = world

    def provision(self, link: dict[str, Any]) -> None:
        began = time.monotonic()
        self.completed("/api/links", link, timeout=3600)
        print(f"provisioned {link['name']} in {time.monotonic() - began:.1f} s")

    def clone_links(self, name: str, count: int) -> None:
        """Link records for ``count`` more links over the same resources, written as provisioning would."""
        from adapters.store import LinkStore

        store = LinkStore.from_connection_string(self.world.storage)
        source = store.get_link(name)
        assert source is not None and source.private_address
        began = time.monotonic()
        for index in range(count):
            clone = f"{name}-{index:04d}"
            store.upsert_link(
                clone,
                spec={**source.spec, "name": clone},
                private_address=source.private_address,
                last_provisioned=source.last_provisioned,
                conditions=source.conditions,
            )
        print(f"added {count} link records in {time.monotonic() - began:.1f} s")

    def sweep(self, concurrency: int) -> dict[str, Any]:
        from kubelink.options import RunOptions

        self.reset_requests()
        run = {"concurrency": concurrency, "options": RunOptions.for_poll_seconds(1).to_json()}
        began = time.monotonic()
        uri = self.start("/runtime/webhooks/durabletask/orchestrators/verify_sweep/verify-sweep", run)
        status = self.follow(uri, timeout=3600, interval=0.5).status
        elapsed = time.monotonic() - began
        log = self.arm_requests()
        return {"status": status, "seconds": elapsed, "log": log}

    @staticmethod
    def report(sweep: dict[str, Any], links: int) -> None:
        status, seconds, log = sweep["status"], sweep["seconds"], sweep["log"]
        kinds = Counter(f"{e['method']} {_kind(e['path'])}" for e in log)
        throttled = sum(1 for e in log if e.get("status") == 429)
        writes = [e for e in log if e["method"] in ("PUT", "PATCH", "DELETE")]
        print(f"  result        {status['runtimeStatus']} {json.dumps(status.get('output'))}")
        print(f"  wall time     {seconds:.1f} s ({links / seconds:.1f} links/s, {1000 * seconds / links:.0f} ms/link)")
        print(f"  ARM requests  {len(log)} ({len(log) / links:.2f} per link), writes {len(writes)}, 429s {throttled}")
        for kind, count in kinds.most_common():
            print(f"    {count / links:5.2f}/link  {kind}")


def _kind(path: str) -> str:
    """A request path from its provider on, names blanked: ``Microsoft.Web/sites/{}/config/{}/list``."""
    parts = path.split("?")[0].strip("/").split("/")
    return "/".join("{}" if i >= 7 and i % 2 else p for i, p in enumerate(parts) if i >= 5) or path


if __name__ == "__main__":
    main()
