"""Session fixtures for the local world, started lazily: a unit test requests none and starts nothing.

One `World` serves the session (fresh state dir under pytest's tmp, free ports everywhere, so it never collides
with a `make run` on 7071). `azurite`, `cluster` and `sandbox` start only that part (and what it needs); `world`
starts everything whose code exists. Teardown stops it all, failing test or not.

Under pytest-xdist (``make test`` runs ``-n``) every worker has worlds of its own. Tests are handed out by the
world they share (``WorldScheduling``): a file's tests together, and a whole package where its conftest keeps one
world for the package (``PACKAGE_WORLDS``). What a run must judge across worlds — the RBAC record behind the
least-privilege test — goes to ``$KUBELINK_TEST_RECORDS`` for a later ``-m session_last`` run to read.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.azurite import Azurite
from local.cluster import Cluster, apiserver_built
from local.supervisor import COMPONENTS, Sandbox, World, available_components

#: What the sandboxes of worlds that ended before the session did granted and refused, per principal
#: (``record_authorizations``): the least-privilege test reads them with the session world's own.
AUTHORIZATION_RECORDS: list[dict[str, Any]] = []
#: the suites that test the local world itself (local/README.md), apart from the product's
LOCAL_WORLD_SUITES = frozenset({"sandbox", "host", "world"})
#: suites whose conftest keeps one world for the whole package: one xdist worker runs each of them whole
PACKAGE_WORLDS = frozenset({"verify", "command"})
#: suites that take longest (minutes of durable timers): handed out first, so no worker starts one at the end
LONGEST_FIRST = ("verify", "e2e", "command", "cli")


def records_dir() -> Path | None:
    """Where this run leaves what a later run judges (``$KUBELINK_TEST_RECORDS``), if anywhere."""
    value = os.environ.get("KUBELINK_TEST_RECORDS")
    return Path(value) if value else None


def record_authorizations(world: World) -> None:
    """Keep a world's RBAC record (``GET /_sandbox/authorizations``) before it stops, in memory and, for a later
    run, in ``records_dir()``."""
    if "sandbox" in world.components and world.arm_url:
        from local.world_client import WorldClient

        record = WorldClient(world.describe()).authorizations()
        AUTHORIZATION_RECORDS.append(record)
        if (folder := records_dir()) is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"authorizations-{uuid.uuid4().hex}.json").write_text(json.dumps(record))


def _suite(item: pytest.Item) -> tuple[str, ...]:
    return item.path.relative_to(item.config.rootpath).parts


def world_scope(nodeid: str) -> str:
    """The unit xdist hands to one worker: the test's file, or its package when the package shares one world."""
    path = nodeid.split("::", 1)[0]
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 and parts[1] in PACKAGE_WORLDS else path


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's load-by-scope scheduling with ``world_scope`` as the scope (its ``xdist_group`` marks cannot rename
    the node ids of this pytest)."""
    from xdist.scheduler import LoadScopeScheduling

    class WorldScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return world_scope(nodeid)

    return WorldScheduling(config, log)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by the marks added here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the local world's own tests ``local_world`` by their folder, so ``-m`` selects either side alone;
    longest suites first (xdist hands scopes out in this order), ``session_last`` tests after every other one
    (they judge what the others did)."""
    for item in items:
        parts = _suite(item)
        if len(parts) > 2 and parts[0] == "tests" and parts[1] in LOCAL_WORLD_SUITES:
            item.add_marker(pytest.mark.local_world)

    def order(item: pytest.Item) -> tuple[bool, int]:
        parts = _suite(item)
        rank = LONGEST_FIRST.index(parts[1]) if len(parts) > 2 and parts[1] in LONGEST_FIRST else len(LONGEST_FIRST)
        return item.get_closest_marker("session_last") is not None, rank

    items.sort(key=order)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the test files this process collected in ``records_dir()``: the later run judges whole suites only."""
    folder = records_dir()
    if folder is None or not session.items:
        return
    files = sorted({"/".join(_suite(item)) for item in session.items})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"collected-{uuid.uuid4().hex}.json").write_text(json.dumps(files))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "session_last: run after every other test of the session")


def require_component(name: str) -> None:
    """Skip when a component's code is not in the tree yet (the sandbox and the host are built in parallel)."""
    if name not in available_components():
        pytest.skip(f"local/{name} has no __main__.py yet")


def require_apiserver() -> None:
    """Skip when kube-apiserver is not built (`make test` builds it); CI fails instead."""
    if apiserver_built():
        return
    message = "kube-apiserver is not built: run `make test` or `python -m local.cluster`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def _session_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # ARM's events would start verifications of their own, racing the suites' explicit verify requests:
    # tests/verify/test_events.py subscribes the host in a world of its own
    world = World(tmp_path_factory.mktemp("world"), host_port=None, events=False)
    try:
        yield world
        record_authorizations(world)
    finally:
        world.stop()


@pytest.fixture(scope="session")
def azurite(_session_world: World) -> Azurite:
    """Azurite on free ports; `.connection_string` for azure-data-tables and friends."""
    _session_world.ensure("azurite")
    return _session_world.azurite


@pytest.fixture(scope="session")
def cluster(_session_world: World) -> Cluster:
    """etcd + kube-apiserver; `.kubeconfig` is a token kubeconfig that verifies the server's certificate."""
    require_apiserver()
    _session_world.ensure("cluster")
    return _session_world.cluster


@pytest.fixture(scope="session")
def sandbox(cluster: Cluster, _session_world: World) -> Sandbox:
    """The ARM sandbox, wired to the cluster; `.info` is its sandbox.json (arm, caBundle, subscriptionId, sites)."""
    require_component("sandbox")
    _session_world.ensure("sandbox")
    return _session_world.sandbox


@pytest.fixture(scope="session")
def world(sandbox: Sandbox, azurite: Azurite, _session_world: World) -> World:
    """Everything, the Functions host included: `.host_url`, `.arm_url`, `.ca_bundle`, `.kubeconfig`, `.storage`,
    `.subscription_id`, `.sites`, `.pids`."""
    require_component("host")
    _session_world.ensure(*COMPONENTS)
    return _session_world


@pytest.fixture
def world_env(
    sandbox: Sandbox, azurite: Azurite, _session_world: World, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The host's app settings (and its managed identity's variables) as environment variables, for calling product
    code in-process against the world as kubelink's identity."""
    from adapters import clients

    settings = _session_world.app_environment()
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    clients.arm_credential.cache_clear()
    return settings
