"""Benchmark: what the per-resource lease costs an app-setting write, alone and six at once (prints figures).

Against an in-process sandbox and Azurite: ``ensure_app_setting`` as shipped (list; under the app's lease: list,
PUT, list back) beside the bare list → PUT kubelink made before the lease, which loses settings when links
run at once. Counted at the HTTP layer: ARM requests (the sandbox's log) and storage requests (to Azurite's
blob endpoint), and wall time; and a converged link (nothing to write). Not a test.

    python -m benchmarks.concurrent_links [--writes 20] [--racers 6] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from activities.app_setting import _replace_settings, ensure_app_setting
from activities.observe import observe_app_settings, web
from kubelink.desired.app_setting import merged_app_settings
from kubelink.spec import LinkSpec
from local.azurite import Azurite
from local.sandbox import SandboxServer
from local.world_client import WorldClient

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "link.json"
Writer = Callable[[dict[str, Any]], object]


def payload(setting: str = "PrivateAddress") -> dict[str, Any]:
    """The example link (without its probe) writing ``setting``: an activity's input."""
    spec = {k: v for k, v in json.loads(EXAMPLE.read_text()).items() if k != "probe"}
    spec["app"] = {**spec["app"], "setting": setting}
    return {"spec": LinkSpec.from_json(spec).to_json()}


def lease_writer(link: dict[str, Any]) -> object:
    written = ensure_app_setting(link)
    assert written["ok"], written
    return written


def bare_writer(link: dict[str, Any]) -> object:
    """kubelink before the lease: list → merge → PUT."""
    spec, value = LinkSpec.from_json(link["spec"]), str(link["value"])
    client = web(spec)
    _replace_settings(client, spec, merged_app_settings(spec, observe_app_settings(spec, client), value))
    return None


class StorageRequests:
    """Counts HTTP requests sent to one host:port (Azurite's blob service), from every thread."""

    def __init__(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        self.where = (parts.hostname, parts.port)
        self.count = 0
        self._lock = threading.Lock()

    @contextmanager
    def counting(self) -> Iterator[None]:
        import requests

        send = requests.Session.send

        def counted(session: requests.Session, request: Any, **kwargs: Any) -> Any:
            parts = urlsplit(request.url)
            if (parts.hostname, parts.port) == self.where:
                with self._lock:
                    self.count += 1
            return send(session, request, **kwargs)

        requests.Session.send = counted  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            requests.Session.send = send  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=20, help="sequential writes by one link")
    parser.add_argument("--racers", type=int, default=6, help="links writing one app at once")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of racers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubelink-bench-") as state:
        _run(Path(state), args)


def _run(state: Path, args: argparse.Namespace) -> None:
    with Azurite(state / "logs") as azurite, SandboxServer(state / "sandbox") as sandbox:
        os.environ.update(
            {
                "AzureWebJobsStorage": azurite.connection_string,
                "KUBELINK_ARM_ENDPOINT": sandbox.arm_url,
                "REQUESTS_CA_BUNDLE": str(sandbox.ca_bundle),
            }
        )
        arm = WorldClient(
            {"arm": sandbox.arm_url, "caBundle": str(sandbox.ca_bundle), "subscriptionId": sandbox.subscription_id}
        )
        storage = StorageRequests(f"http://127.0.0.1:{azurite.ports['blob']}")
        with storage.counting():
            lease_writer({**payload(), "value": "warm-up"})  # the container and the lease's blob exist now
            for name, writer in (("bare list → PUT", bare_writer), ("with the lease", lease_writer)):
                _alone(name, writer, args.writes, arm, storage)
            _alone("converged, with the lease", lease_writer, args.writes, arm, storage, changing=False)
            _lease_alone(args.writes, storage)
            for name, writer in (("bare list → PUT", bare_writer), ("with the lease", lease_writer)):
                _at_once(name, writer, args.racers, args.rounds, arm, storage)


def _alone(
    name: str, writer: Writer, writes: int, arm: WorldClient, storage: StorageRequests, *, changing: bool = True
) -> None:
    arm.reset_requests()
    storage.count = 0
    took = []
    for i in range(writes):
        started = time.perf_counter()
        writer({**payload(), "value": f"10.240.16.{i + 4 if changing else 4}"})
        took.append(time.perf_counter() - started)
    print(
        f"one link, {name}: median {statistics.median(took) * 1000:.0f} ms per write; "
        f"{len(arm.arm_requests()) / writes:.1f} ARM and {storage.count / writes:.1f} storage requests per write"
    )


def _lease_alone(times: int, storage: StorageRequests) -> None:
    from adapters.lease import exclusive

    resource = LinkSpec.from_json(payload()["spec"]).app_id
    storage.count = 0
    took = []
    for _ in range(times):
        started = time.perf_counter()
        with exclusive(resource):
            pass
        took.append(time.perf_counter() - started)
    median = statistics.median(took) * 1000
    print(f"the lease alone (acquire, release): median {median:.0f} ms, {storage.count / times:.1f} storage requests")


def _at_once(name: str, writer: Writer, racers: int, rounds: int, arm: WorldClient, storage: StorageRequests) -> None:
    arm.reset_requests()
    storage.count = 0
    spans, lost = [], 0
    for round_ in range(rounds):
        links = [{**payload(f"Race{i}Address"), "value": f"{round_}.{i}"} for i in range(racers)]
        barrier = threading.Barrier(racers)

        def run(link: dict[str, Any], barrier: threading.Barrier = barrier) -> object:
            barrier.wait()
            return writer(link)

        started = time.perf_counter()
        with ThreadPoolExecutor(racers) as pool:
            list(pool.map(run, links))
        spans.append(time.perf_counter() - started)
        spec = LinkSpec.from_json(links[0]["spec"])
        settings = observe_app_settings(spec)
        lost += sum(settings.get(f"Race{i}Address") != f"{round_}.{i}" for i in range(racers))
    writes = racers * rounds
    print(
        f"{racers} links at once, {name}: all done in {statistics.median(spans) * 1000:.0f} ms (median of {rounds}); "
        f"{len(arm.arm_requests()) / writes:.1f} ARM and {storage.count / writes:.1f} storage requests per link; "
        f"settings lost: {lost} of {writes}"
    )


if __name__ == "__main__":
    main()
