"""The supervisor starts the whole world, writes world.json, restarts the host, and leaves no process behind."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from local.process import Proc, StartError, pid_alive
from local.supervisor import REPO, World, available_components
from tests.conftest import require_apiserver, require_component

WORLD_KEYS = {"host", "arm", "caBundle", "kubeconfig", "storage", "subscriptionId", "sites", "pids"}


def _eventually(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {check}"
        time.sleep(0.1)


def _children(pids: dict[str, int]) -> dict[str, int]:
    return {name: pid for name, pid in pids.items() if name != "supervisor"}


@pytest.fixture(scope="module")
def own_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A world of its own (not the session's): these tests kill parts of it and stop it."""
    require_apiserver()
    world = World.start(tmp_path_factory.mktemp("own-world"), host_port=None)
    yield world
    world.stop()


def test_world_json_describes_the_running_world(own_world: World) -> None:
    described = json.loads(own_world.world_file.read_text())
    assert set(described) == WORLD_KEYS
    assert set(own_world.components) == set(available_components())
    expected = {"azurite", "etcd", "kube-apiserver", *(c for c in ("sandbox", "host") if c in own_world.components)}
    assert set(_children(described["pids"])) == expected
    assert described["pids"]["supervisor"] == os.getpid()
    assert all(pid_alive(pid) for pid in described["pids"].values())
    assert described["kubeconfig"] == str(own_world.kubeconfig)
    assert (described["host"], described["arm"]) == (own_world.host_url, own_world.arm_url)
    assert described["sites"] == own_world.sites and described["subscriptionId"] == own_world.subscription_id
    assert "TableEndpoint=http://127.0.0.1:" in described["storage"]
    logs = {p.name for p in (own_world.state_dir / "logs").iterdir()}
    assert {"azurite.log", "etcd.log", "kube-apiserver.log"} <= logs


def test_host_settings_point_at_the_world(own_world: World) -> None:
    require_component("host")
    settings = own_world.host_settings()
    assert settings["KUBELINK_ARM_ENDPOINT"] == own_world.arm_url
    assert settings["KUBELINK_ALLOWED_SCOPES"] == f"/subscriptions/{own_world.subscription_id}"
    assert settings["AzureWebJobsStorage"] == own_world.storage
    assert base64.b64decode(settings["KUBELINK_KUBECONFIG"]) == own_world.kubeconfig.read_bytes()
    assert json.loads(own_world.settings_file.read_text())["Values"] == settings
    # the identity infra/ deploys: its client id as an app setting, App Service's variables beside the settings
    assert settings["AZURE_CLIENT_ID"] == own_world.sandbox.info["appClientId"]
    environment = own_world.app_environment()
    assert environment["IDENTITY_ENDPOINT"] == f"{own_world.arm_url}/msi/token"
    assert environment["IDENTITY_HEADER"] and environment["IDENTITY_HEADER"] not in json.dumps(settings)


def test_the_ca_bundle_verifies_arm_and_the_sites_but_not_the_cluster(own_world: World) -> None:
    """REQUESTS_CA_BUNDLE holds the sandbox CA only; the cluster's CA (a different name) lives in the kubeconfig."""
    require_component("sandbox")
    bundle = str(own_world.ca_bundle)
    for url in [str(own_world.arm_url), *own_world.sites.values()]:
        requests.get(url, verify=bundle, timeout=10)  # raises SSLError if the chain does not verify
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(own_world.cluster.server, verify=bundle, timeout=10)


def test_the_hosts_event_grid_trigger_is_subscribed_to_arms_events(own_world: World) -> None:
    """The sandbox accepted the subscription only after the host answered its validation handshake."""
    require_component("host")
    listed = requests.get(
        f"{own_world.arm_url}/_sandbox/eventSubscriptions", verify=str(own_world.ca_bundle), timeout=10
    ).json()["value"]
    (subscription,) = listed
    assert subscription["endpoint"] == (
        f"{own_world.host_url}/runtime/webhooks/eventgrid?functionName=resource_changed"
    )
    assert subscription["subjectBeginsWith"] == f"/subscriptions/{own_world.subscription_id}"


def test_host_is_restarted_after_sigkill_and_pids_rewritten(own_world: World) -> None:
    require_component("host")
    before = json.loads(own_world.world_file.read_text())["pids"]
    os.kill(before["host"], signal.SIGKILL)

    def restarted() -> bool:
        pids = json.loads(own_world.world_file.read_text())["pids"]
        return pids.get("host", before["host"]) != before["host"]

    _eventually(restarted, timeout=60)
    after = json.loads(own_world.world_file.read_text())["pids"]
    assert pid_alive(after["host"])
    assert {k: v for k, v in after.items() if k != "host"} == {k: v for k, v in before.items() if k != "host"}
    assert own_world.failure is None


def test_stop_leaves_no_process_and_no_world_file(own_world: World) -> None:
    pids = _children(own_world.pids)
    own_world.stop()
    assert not [name for name, pid in pids.items() if pid_alive(pid)]
    assert not own_world.world_file.exists()


def test_a_taken_port_is_reported_by_component_and_nothing_stays(tmp_path: Path) -> None:
    require_apiserver()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        world = World(tmp_path, host_port=None, apiserver_port=port)
        with pytest.raises(StartError) as err:
            try:
                world.ensure("azurite", "cluster")
            finally:
                azurite_pid = world.azurite.proc.pid if world.azurite.proc else None
                world.stop()
    assert err.value.component == "kube-apiserver"
    assert f"port {port}" in str(err.value)
    assert azurite_pid is not None and not pid_alive(azurite_pid)


def test_a_component_that_dies_at_start_is_named_with_its_log_and_nothing_stays(tmp_path: Path) -> None:
    require_apiserver()
    started: dict[str, int] = {}
    original = Proc.start

    def recording_start(proc: Proc) -> None:
        original(proc)
        started[proc.name] = proc.pid

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Proc, "start", recording_start)
        with pytest.raises(StartError) as err:
            World.start(tmp_path, ["sandbox"], host_port=None, sandbox_args=["--no-such-option"])
    assert err.value.component == "sandbox"
    assert "exited with code" in err.value.reason
    log_tail = (tmp_path / "logs" / "sandbox.log").read_text().strip().splitlines()[-1]
    assert log_tail in err.value.reason, "the reason carries the end of the component's log"
    assert set(started) == {"etcd", "kube-apiserver", "sandbox"}
    assert not [name for name, pid in started.items() if pid_alive(pid)]
    assert not (tmp_path / "world.json").exists()


def _run_cli(state_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    """`python -m local.supervisor run` on free ports, without the host: these tests are about the supervisor."""
    argv = [sys.executable, "-m", "local.supervisor", "run", "--state-dir", str(state_dir), "--without=host"]
    argv += ["--host-port=0", "--arm-port=0", "--apiserver-port=0", "--blob-port=0", "--queue-port=0", "--table-port=0"]
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    world_file = state_dir / "world.json"
    try:
        _eventually(lambda: world_file.exists() or proc.poll() is not None, timeout=120)
        assert proc.poll() is None, proc.communicate()[0].decode()
        return proc, json.loads(world_file.read_text())["pids"]
    except BaseException:
        proc.kill()
        raise


def _stop_command(proc: subprocess.Popen[bytes], state_dir: Path) -> None:
    """`python -m local.supervisor stop`: SIGTERM to the supervisor world.json names, then wait for it."""
    stop = [sys.executable, "-m", "local.supervisor", "stop", "--state-dir", str(state_dir)]
    done = subprocess.run(stop, cwd=REPO, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0 and f"supervisor pid {proc.pid}" in done.stdout, done


@pytest.mark.parametrize(
    "stop",
    [lambda proc, _: proc.send_signal(signal.SIGINT), _stop_command],
    ids=["ctrl-c", "stop-command"],
)
def test_cli_stops_everything(tmp_path: Path, stop: Callable[[subprocess.Popen[bytes], Path], None]) -> None:
    require_apiserver()
    proc, pids = _run_cli(tmp_path)
    assert pids["supervisor"] == proc.pid
    stop(proc, tmp_path)
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, output
    assert "kubelink local world is up" in output and "kubeconfig" in output
    assert not [name for name, pid in pids.items() if pid_alive(pid)]
    assert not (tmp_path / "world.json").exists()


def test_children_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    require_apiserver()
    proc, pids = _run_cli(tmp_path)
    proc.kill()
    proc.wait()
    _eventually(lambda: not any(pid_alive(pid) for pid in _children(pids).values()), timeout=30)
