"""Azurite (npm, pinned in package.json) on loopback: the storage account behind AzureWebJobsStorage locally."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from local.process import Component, Proc, StartError, pick_port

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented by Microsoft), the one UseDevelopmentStorage=true implies.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
STANDARD_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}


def connection_string(ports: dict[str, int]) -> str:
    """The explicit form of `UseDevelopmentStorage=true`, with the ports actually in use."""
    endpoints = ";".join(
        f"{kind.capitalize()}Endpoint=http://127.0.0.1:{ports[kind]}/{ACCOUNT}" for kind in ("blob", "queue", "table")
    )
    return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};{endpoints}"


class Azurite(Component):
    """Blob, queue and table services on 127.0.0.1.

    `ports` maps blob/queue/table to a port; a missing or 0 entry means a free port. With `location`, data persists
    there; without, it lives in memory.
    """

    def __init__(self, logs: Path, *, ports: dict[str, int] | None = None, location: Path | None = None) -> None:
        self.logs = logs
        self.requested = ports or {}
        self.location = location
        self.ports: dict[str, int] = {}
        self.proc: Proc | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(self.ports)

    def _start(self) -> None:
        """Start Azurite and return once all three services accept connections; on failure nothing is left."""
        binary = REPO / "node_modules" / ".bin" / "azurite"
        if not binary.exists():
            raise StartError("azurite", f"{binary} is missing: run `npm ci` in the repo (make setup does)")
        if shutil.which("node") is None:
            raise StartError("azurite", "node is not on PATH (Azurite 3.35 runs on Node.js 20)")
        self.ports = {kind: pick_port("azurite", self.requested.get(kind)) for kind in STANDARD_PORTS}
        argv = [str(binary), "--silent", "--skipApiVersionCheck", "--disableTelemetry"]
        for kind, port in self.ports.items():
            argv += [f"--{kind}Host", "127.0.0.1", f"--{kind}Port", str(port)]
        if self.location is None:
            argv.append("--inMemoryPersistence")
        else:
            self.location.mkdir(parents=True, exist_ok=True)
            argv += ["--location", str(self.location)]
        self.proc = Proc("azurite", argv, self.logs / "azurite.log")
        self.proc.start()
        self.proc.wait_ready(self._listening, 30, "listening on its blob, queue and table ports")

    def _listening(self) -> bool:
        for port in self.ports.values():
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        return True

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
