"""Print the conformance figures: ``python -m tests.sandbox.conformance`` (a fresh in-process sandbox)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from local.sandbox import SandboxServer, Settings

from .catalog import run
from .test_conformance import KNOWN


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as state,
        SandboxServer(
            Path(state) / "sandbox", settings=Settings(lro_seconds=0.2, gateway_seconds=1.0, ilb_delay_seconds=0.2)
        ) as sandbox,
    ):
        figures = run(sandbox)
    print(
        f"recorded interactions: {figures.interactions}; requests replayed: {figures.exchanges}, "
        f"matching on every aspect: {figures.matched}"
    )
    for difference in figures.differences:
        print(f"- {difference}\n    {KNOWN.get(str(difference), 'NOT IN THE ALLOW-LIST')}")


if __name__ == "__main__":
    main()
