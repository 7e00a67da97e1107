"""Benchmark: provision a fresh link in the local world, then re-run it (prints figures; not a test).

Everything is read from the sandbox's request log and world state, i.e. what Azure would have seen:
ARM requests by method, gateway PUTs, writes on the converged re-run, polls, and how long the orchestration
took to notice that the gateway had finished (the cost of polling between durable timers).

    python -m benchmarks.provision [--poll-seconds 1] [--gateway-seconds 5]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from local.world_client import WorldClient

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "link.json"
GATEWAY = re.compile(r"/virtualNetworkGateways/[^/]+$", re.I)
OPERATION = re.compile(r"/providers/Microsoft\.Network/locations/[^/]+/operations/", re.I)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--poll-seconds", type=int, default=1, help="KUBELINK_POLL_SECONDS")
    parser.add_argument("--gateway-seconds", type=float, default=5, help="how long the sandbox's gateway takes")
    args = parser.parse_args()
    from local.supervisor import World

    with tempfile.TemporaryDirectory(prefix="kubelink-bench-") as state:
        world = World(
            Path(state),
            host_port=None,
            sandbox_args=["--gateway-seconds", str(args.gateway_seconds)],
            settings={"KUBELINK_POLL_SECONDS": str(args.poll_seconds)},
        )
        with world:
            started = time.monotonic()
            world.ensure("host")
            print(f"world up in {time.monotonic() - started:.1f} s")
            client = WorldClient(world.describe())
            link = json.loads(EXAMPLE.read_text())

            print("\nfresh link")
            elapsed = _provision(client, link)
            log = client.arm_requests()
            _report(log, len(client.arm_writes()), elapsed)
            lag = _notice_lag(log, client.sandbox_state()["operations"])
            print(f"  gateway finished -> orchestration noticed: {lag:.2f} s")

            client.reset_requests()
            print("\nre-run of the converged link")
            elapsed = _provision(client, link)
            _report(client.arm_requests(), len(client.arm_writes()), elapsed)


def _provision(client: WorldClient, link: dict[str, Any]) -> float:
    started = time.monotonic()
    output = client.completed("/api/links", link)
    print(f"  completed in {time.monotonic() - started:.1f} s, steps {output['steps']}")
    return time.monotonic() - started


def _report(log: list[dict[str, Any]], writes: int, elapsed: float) -> None:
    by_method = Counter(r["method"] for r in log)
    gateway_puts = [r for r in log if r["method"] == "PUT" and GATEWAY.search(r["path"])]
    polls = [r for r in log if r["method"] == "GET" and (OPERATION.search(r["path"]) or GATEWAY.search(r["path"]))]
    print(f"  ARM requests: {len(log)} ({', '.join(f'{m} {n}' for m, n in sorted(by_method.items()))})")
    print(f"  gateway PUTs: {len(gateway_puts)}   writes: {writes}   gateway/operation polls: {len(polls)}")
    print(f"  ARM requests per minute of run: {len(log) / max(elapsed / 60, 1e-9):.0f}")


def _notice_lag(log: list[dict[str, Any]], operations: dict[str, dict[str, Any]]) -> float:
    """Seconds from the gateway operation's end to the first gateway or operation read after it."""
    gateway_ops = [op for op in operations.values() if GATEWAY.search(op["resource_id"]) and op["kind"] == "put"]
    ended = max(op["ends"] for op in gateway_ops)
    after = [
        r["time"] for r in log if r["time"] >= ended and (GATEWAY.search(r["path"]) or OPERATION.search(r["path"]))
    ]
    return min(after) - ended


if __name__ == "__main__":
    main()
