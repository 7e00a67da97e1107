"""Benchmark: one fleet sweep over many links under ARM's throttling, in the local world (prints figures).

Provisions the example link for real, then adds link records for ``--links`` links in all, in one of two
shapes, each in a world of its own:

- ``shared``: every link names the same gateway, app and Service (as many links sharing one app would);
- ``distinct-apps``: every link has an app of its own (the sandbox seeds that many copies of the provisioned
  app, connection and settings included, through its control API), all on one gateway. The copies have no
  HTTPS server of their own, so these links carry no probe.

With the sandbox's throttling at ``--scale`` (1: ARM's own token buckets), it runs the sweep as the timer
starts it and prints the ARM requests per link by kind, the 429s met, the wall time, and the floor the
token buckets allow for that mix of requests (``adapters.pacing.bucket_floor``), ending with one line:

    sweep: shape=shared links=1000 wall=12.3 floor=10.8 ratio=1.14 requests_per_link=0.004 failed=0

    python -m benchmarks.sweep [--links 1000] [--shape shared|distinct-apps] [--concurrency 20] [--scale 1]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from adapters.pacing import bucket_floor, request_kind
from local.world_client import WorldClient

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "link.json"
NO_SCHEDULED_SWEEP = "0 0 0 1 1 *"
SHAPES = ("shared", "distinct-apps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--shape", choices=SHAPES, action="append", help="default: both, one after the other")
    parser.add_argument("--concurrency", type=int, default=20, help="KUBELINK_VERIFY_CONCURRENCY for the sweep")
    parser.add_argument("--scale", type=float, default=1.0, help="the sandbox's token buckets times this")
    args = parser.parse_args()
    for shape in args.shape or SHAPES:
        bench(shape, args.links, args.concurrency, args.scale)


def bench(shape: str, links: int, concurrency: int, scale: float) -> None:
    from local.supervisor import World

    settings = {"KUBELINK_VERIFY_SCHEDULE": NO_SCHEDULED_SWEEP}
    with tempfile.TemporaryDirectory(prefix="kubelink-bench-") as state:
        world = World(Path(state), host_port=None, settings=settings, events=False)
        with world:
            began = time.monotonic()
            world.ensure("host")
            client = WorldClient(world.describe())
            link = json.loads(EXAMPLE.read_text())
            client.completed("/api/links", link, timeout=3600)
            print(f"\n[{shape}] world up and {link['name']} provisioned in {time.monotonic() - began:.1f} s")
            began = time.monotonic()
            seed(client, link, shape, links - 1)
            print(f"[{shape}] {links - 1} more link records (and their apps) in {time.monotonic() - began:.1f} s")
            client.throttle(scale)
            client.reset_requests()
            began = time.monotonic()
            status = client.sweep(concurrency).status
            wall = time.monotonic() - began
            report(shape, links, wall, status, client.arm_requests(), scale, concurrency)


def seed(client: WorldClient, link: dict[str, Any], shape: str, count: int) -> None:
    if shape == "shared":
        client.clone_links(link["name"], count)
        return
    app = link["app"]
    answer = client.http.post(
        f"{client.arm}/_sandbox/sites/{app['resourceGroup']}/{app['name']}/copies", json={"count": count}, timeout=600
    )
    answer.raise_for_status()
    apps: list[str] = answer.json()["names"]

    def own_app(index: int, spec: dict[str, Any]) -> dict[str, Any]:
        body = {**spec, "app": {**spec["app"], "name": apps[index]}}
        body.pop("probe", None)
        return body

    client.clone_links(link["name"], count, own_app)


def report(
    shape: str, links: int, wall: float, status: dict[str, Any], log: list[dict[str, Any]], scale: float, workers: int
) -> None:
    output = status.get("output") or {}
    kinds = Counter(f"{e['method']} {_kind(e['path'])}" for e in log)
    buckets = Counter(request_kind(e["method"]) for e in log)
    throttled = sum(1 for e in log if e["status"] == 429)
    floor = bucket_floor(buckets, scale) if scale > 0 else 0.0
    per_link = len(log) / links
    print(f"[{shape}] {status['runtimeStatus']} {json.dumps(output)}; concurrency {workers}, bucket scale {scale:g}")
    print(f"  ARM requests {len(log)} ({per_link:.3f} per link): {dict(buckets)}; 429s met {throttled}")
    for kind, count in kinds.most_common():
        print(f"    {count / links:7.3f}/link  {count:5d}  {kind}")
    print(f"  wall {wall:.1f} s; the token buckets allow no less than {floor:.1f} s for these requests")
    ratio = f"{wall / floor:.2f}" if floor > 0 else "inf"
    failed = output.get("failed", links) if status["runtimeStatus"] == "Completed" else links
    print(
        f"sweep: shape={shape} links={links} wall={wall:.1f} floor={floor:.1f} ratio={ratio} "
        f"requests_per_link={per_link:.3f} failed={failed}"
    )


def _kind(path: str) -> str:
    """A request path from its provider on, names blanked: ``Microsoft.Web/sites/{}/config/{}/list``."""
    parts = path.split("?")[0].strip("/").split("/")
    return "/".join("{}" if i >= 7 and i % 2 else p for i, p in enumerate(parts) if i >= 5) or path


if __name__ == "__main__":
    main()
