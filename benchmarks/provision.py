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

import requests

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "link.json"
TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")
GATEWAY = re.compile(r"/virtualNetworkGateways/[^/]+$", re.I)
OPERATION = re.compile(r"/providers/Microsoft\.Network/locations/[^/]+/operations/", re.I)
READ_ACTIONS = ("/list", "/listclusterusercredential")


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
            ca = str(world.ca_bundle)
            arm = str(world.arm_url)
            link = json.loads(EXAMPLE.read_text())

            print("\nfresh link")
            elapsed = _provision(str(world.host_url), link)
            log = requests.get(f"{arm}/_sandbox/requests", verify=ca, timeout=30).json()
            operations = requests.get(f"{arm}/_sandbox/world", verify=ca, timeout=30).json()["operations"]
            _report(log, elapsed)
            print(f"  gateway finished -> orchestration noticed: {_notice_lag(log, operations):.2f} s")

            requests.delete(f"{arm}/_sandbox/requests", verify=ca, timeout=30).raise_for_status()
            print("\nre-run of the converged link")
            elapsed = _provision(str(world.host_url), link)
            _report(requests.get(f"{arm}/_sandbox/requests", verify=ca, timeout=30).json(), elapsed)


def _provision(host: str, link: dict[str, Any]) -> float:
    started = time.monotonic()
    response = requests.post(f"{host}/api/links", json=link, timeout=30)
    response.raise_for_status()
    url = response.json()["statusQueryGetUri"]
    while True:
        status = requests.get(url, timeout=30).json()
        if status["runtimeStatus"] in TERMINAL:
            break
        time.sleep(0.1)
    if status["runtimeStatus"] != "Completed":
        raise SystemExit(f"run ended {status['runtimeStatus']}: {status.get('output')}")
    print(f"  completed in {time.monotonic() - started:.1f} s, steps {status['output']['steps']}")
    return time.monotonic() - started


def _writes(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in log if r["method"] != "GET" and not r["path"].lower().endswith(READ_ACTIONS)]


def _report(log: list[dict[str, Any]], elapsed: float) -> None:
    by_method = Counter(r["method"] for r in log)
    gateway_puts = [r for r in log if r["method"] == "PUT" and GATEWAY.search(r["path"])]
    polls = [r for r in log if r["method"] == "GET" and (OPERATION.search(r["path"]) or GATEWAY.search(r["path"]))]
    print(f"  ARM requests: {len(log)} ({', '.join(f'{m} {n}' for m, n in sorted(by_method.items()))})")
    print(f"  gateway PUTs: {len(gateway_puts)}   writes: {len(_writes(log))}   gateway/operation polls: {len(polls)}")
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
