"""Serve function_app.py locally: HTTP and timer triggers, the Durable HTTP API and a persistent task hub."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from local.host.clock import SystemClock
from local.host.host import LocalHost


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.host", description=__doc__)
    parser.add_argument("--app-dir", default=".", type=Path, help="folder with function_app.py and host.json")
    parser.add_argument("--port", type=int, default=None, help="default: Host.LocalHttpPort or 7071")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="SQLite task hub folder (default: <app-dir>/.local/host-state)"
    )
    parser.add_argument("--settings", type=Path, default=None, help="default: <app-dir>/local.settings.json")
    parser.add_argument("--bind", default="127.0.0.1", help="listen address (loopback by default)")
    parser.add_argument(
        "--timer-scale", type=float, default=1.0, help="run the host clock N times faster (durable and trigger timers)"
    )
    parser.add_argument(
        "--identity-endpoint", help="IDENTITY_ENDPOINT for the app, as App Service sets it for a managed identity"
    )
    parser.add_argument(
        "--identity-header-file", type=Path, help="file holding IDENTITY_HEADER (a secret: never on a command line)"
    )
    args = parser.parse_args(argv)
    if bool(args.identity_endpoint) != bool(args.identity_header_file):
        parser.error("--identity-endpoint and --identity-header-file go together")
    settings = args.settings or args.app_dir / "local.settings.json"
    port = args.port
    if port is None:
        host_section = json.loads(settings.read_text()).get("Host", {}) if settings.is_file() else {}
        port = int(host_section.get("LocalHttpPort", 7071))
    host = LocalHost(
        args.app_dir,
        port=port,
        state_dir=args.state_dir or args.app_dir / ".local" / "host-state",
        settings_file=settings,
        clock=SystemClock(scale=args.timer_scale),
        bind=args.bind,
        managed_identity=(args.identity_endpoint, args.identity_header_file.read_text().strip())
        if args.identity_endpoint
        else None,
    )
    asyncio.run(_serve(host))


async def _serve(host: LocalHost) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(host.serve())
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, host.stop_soon)
    await task


if __name__ == "__main__":
    main()
