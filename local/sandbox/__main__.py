"""``python -m local.sandbox --port P --state-dir DIR``: run the Azure sandbox until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from .cloud import Settings
from .seed import DEFAULT_SEED
from .server import SandboxServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="ARM port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--state-dir", type=Path, required=True, help="CA, state.json and sandbox.json go here")
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="world file used when there is no state yet")
    parser.add_argument(
        "--kubeconfig", type=Path, help="apiserver for the ILB controller and listClusterUserCredential"
    )
    parser.add_argument("--lro-seconds", type=float, default=Settings.lro_seconds, help="duration of ordinary LROs")
    parser.add_argument(
        "--gateway-seconds", type=float, default=Settings.gateway_seconds, help="gateway create/update/delete"
    )
    parser.add_argument(
        "--ilb-delay-seconds", type=float, default=Settings.ilb_delay_seconds, help="before an ILB IP is set"
    )
    parser.add_argument(
        "--throttle-scale",
        type=float,
        default=Settings.throttle_scale,
        help="ARM's token buckets times this (1: Azure's; 0: off, the default)",
    )
    parser.add_argument(
        "--list-page-size", type=int, default=Settings.list_page_size, help="entries per page of a list answer"
    )
    parser.add_argument("--site-port-base", type=int, default=0, help="first web app port (0: any free port)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    settings = Settings(
        lro_seconds=args.lro_seconds,
        gateway_seconds=args.gateway_seconds,
        ilb_delay_seconds=args.ilb_delay_seconds,
        throttle_scale=args.throttle_scale,
        list_page_size=args.list_page_size,
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    sandbox = SandboxServer(
        args.state_dir,
        port=args.port,
        seed=args.seed,
        kubeconfig=args.kubeconfig,
        settings=settings,
        site_port_base=args.site_port_base,
    ).start()
    logging.getLogger("local.sandbox").info("ARM on %s, state in %s", sandbox.arm_url, args.state_dir)
    try:
        done.wait()
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
