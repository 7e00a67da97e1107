"""adapters.lease against Azurite: one holder per resource, waiters give up cleanly, a crashed holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobLeaseClient, BlobServiceClient

from adapters.clients import arm_error
from adapters.lease import CONTAINER, LEASE_SECONDS, exclusive
from kubelink.errors import TransientError
from local.azurite import Azurite, connection_string

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def storage(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    return azurite.connection_string


@pytest.fixture
def resource() -> str:
    """A fresh ARM-shaped id, so tests never share a lease."""
    return f"/subscriptions/s/resourceGroups/apps-rg/providers/Microsoft.Web/sites/app-{uuid.uuid4().hex[:8]}"


def raw_lease(connection: str, resource_id: str) -> BlobLeaseClient:
    """The lease's blob as another holder sees it."""
    blob = BlobServiceClient.from_connection_string(connection).get_blob_client(
        CONTAINER, resource_id.lower().strip("/")
    )
    return BlobLeaseClient(blob)


def test_one_holder_at_a_time_whatever_the_case_of_the_id(storage: str, resource: str):
    inside, most, entries = 0, 0, 0
    counting = threading.Lock()

    def write(upper: bool) -> None:
        nonlocal inside, most, entries
        for _ in range(3):
            with exclusive(resource.upper() if upper else resource):
                with counting:
                    inside += 1
                    most, entries = max(most, inside), entries + 1
                time.sleep(0.01)  # a read → merge → write
                with counting:
                    inside -= 1

    threads = [threading.Thread(target=write, args=(i % 2 == 0,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (most, entries) == (1, 24)


def test_other_resources_do_not_wait(storage: str, resource: str):
    entered_other = threading.Event()

    def hold() -> None:
        with exclusive(resource):
            assert entered_other.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    with exclusive(resource + "/config/appsettings", wait_seconds=5):
        entered_other.set()
    holder.join()


def test_a_waiter_gives_up_with_a_transient_error_naming_the_resource(storage: str, resource: str):
    with exclusive(resource):  # creates the lease's blob
        pass
    raw_lease(storage, resource).acquire(lease_duration=LEASE_SECONDS)
    with pytest.raises(TransientError) as raised, exclusive(resource, wait_seconds=0.3):
        pytest.fail("entered a leased resource")
    assert (raised.value.code, raised.value.resource, raised.value.retry_after) == (
        "ResourceLeased",
        resource,
        LEASE_SECONDS,
    )


@pytest.fixture
def killed_holder(storage: str, resource: str) -> Iterator[None]:
    """A writer process killed (SIGKILL) while inside ``exclusive(resource)``: it never releases the lease."""
    code = (
        f"from adapters.lease import exclusive\nwith exclusive({resource!r}):\n    print('in', flush=True)\n    input()"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"in"
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        yield
    finally:
        writer.kill()
        writer.wait(10)


def test_a_holder_killed_inside_frees_the_resource_when_its_lease_expires_a_live_one_keeps_it(
    storage: str, resource: str, killed_holder: None
):
    live = resource + "-live"
    outlived, released = threading.Event(), threading.Event()
    acquired: list[float] = []

    def hold_past_a_lease() -> None:
        with exclusive(live):
            acquired.append(time.monotonic())
            outlived.wait(LEASE_SECONDS + 10)
        released.set()

    holder = threading.Thread(target=hold_past_a_lease)
    holder.start()
    with pytest.raises(TransientError), exclusive(resource, wait_seconds=0.5):  # the killed writer's lease outlives it
        pytest.fail("entered a resource whose holder was killed a moment ago")
    with exclusive(resource, wait_seconds=LEASE_SECONDS + 15):  # ... until it expires
        pass
    time.sleep(max(0.0, acquired[0] + LEASE_SECONDS + 1 - time.monotonic()))
    with pytest.raises(ResourceExistsError):  # the live holder's, renewed, is held past its first term
        raw_lease(storage, live).acquire(lease_duration=LEASE_SECONDS)
    outlived.set()
    holder.join()
    assert released.is_set()


def test_without_its_storage_account_nothing_runs_and_the_error_is_transient(monkeypatch: pytest.MonkeyPatch):
    """No lease, no write: an unreachable account fails the writer soon (a durable retry follows), never skips it."""
    nothing_listens = {"blob": 9, "queue": 9, "table": 9}  # the discard port
    monkeypatch.setenv("AzureWebJobsStorage", connection_string(nothing_listens))
    with pytest.raises(Exception) as raised, exclusive("/subscriptions/s/resourceGroups/g"):
        pytest.fail("ran without the lease")
    error = arm_error(raised.value)
    assert (error.transient, error.code) == (True, "ConnectionFailed")
