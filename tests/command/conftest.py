"""The ``kubelink`` command and the status page against a fresh local world (one for this package): the installed
console script run as a user runs it, and the page in Debian's headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from local.supervisor import World
from local.world_client import WorldClient
from tests.conftest import require_apiserver, require_component

KUBELINK = Path(sys.executable).parent / "kubelink"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "link.json"


class Result(NamedTuple):
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def kubelink_env() -> dict[str, str]:
    """The environment running pytest, less a target of its own (``KUBELINK_URL``/``KUBELINK_KEY``)."""
    env = {k: v for k, v in os.environ.items() if k not in {"KUBELINK_URL", "KUBELINK_KEY"}}
    env["COLUMNS"] = "200"  # one line per row, whatever the terminal running pytest
    return env


def kubelink(*args: str, cwd: Path, stdin: bytes | None = None) -> Result:
    """The installed console script, run to its end."""
    if not KUBELINK.exists():
        pytest.fail(f"{KUBELINK} is missing: `make setup` installs it (pip install -e .)")
    done = subprocess.run(
        [str(KUBELINK), *args], cwd=cwd, env=kubelink_env(), input=stdin, capture_output=True, timeout=300
    )
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())


class Cli:
    """Runs ``.venv/bin/kubelink`` in a folder whose ``.local/world.json`` describes the world, with no
    ``KUBELINK_URL``: the command finds its target as it does after ``make run``."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client = WorldClient(world.describe())
        self.folder = world.state_dir.parent

    def __call__(self, *args: str, stdin: bytes | None = None) -> Result:
        return kubelink(*args, cwd=self.folder, stdin=stdin)


@pytest.fixture(scope="package")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    require_apiserver()
    require_component("sandbox")
    require_component("host")
    # no ARM events: an event-started verification would race the tests' explicit verify requests (409 LinkBusy)
    world = World.start(tmp_path_factory.mktemp("cli") / ".local", host_port=None, events=False)
    try:
        yield Cli(world)
    finally:
        world.stop()
