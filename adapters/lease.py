"""One writer at a time per shared Azure resource: a short blob lease in kubelink's storage account.

kubelink edits collections that other links share read → merge → write: an app's settings (``PUT
config/appsettings`` replaces them all and takes no ETag), a gateway's root certificates, a subnet's
delegations. Two links doing that at once each write a merge that lacks the other's change, and one is lost.
Every such writer wraps its read → merge → write in ``exclusive(resource_id)``.

Why a blob lease (README "Concurrent links"): the local Durable host has no entities, so an entity per
resource is not available in both worlds; a lease in ``AzureWebJobsStorage`` is (Azurite and Azure Storage),
is what the Functions host itself uses for its singleton locks, and its expiry is kept by the Blob service, not
by the writers' clocks: a writer that crashes while holding one blocks the others for at most
``LEASE_SECONDS``. The lease is renewed while the block runs and released at its end.

``azure.storage.blob`` is imported on first use, never at cold start.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from adapters.store import storage_connection
from kubelink.errors import TransientError

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient

log = logging.getLogger("kubelink.lease")

CONTAINER = "kubelink-leases"
LEASE_SECONDS = 15  # the Blob service's shortest lease: how long a crashed holder can block the others
RENEW_SECONDS = 5.0
WAIT_SECONDS = 45.0  # longer than a lease, so a crashed holder's lease has expired before a waiter gives up
FIRST_RETRY_SECONDS = 0.05
MAX_RETRY_SECONDS = 0.25


@contextmanager
def exclusive(resource_id: str, *, wait_seconds: float = WAIT_SECONDS) -> Iterator[None]:
    """Run the block while holding the lease on ``resource_id`` (ARM ids are case-insensitive, and so is this).

    Waits for another holder to finish; after ``wait_seconds`` raises TransientError ``ResourceLeased`` (the
    orchestrator retries it later). Hold it only across one read → merge → write, never across a durable wait.
    """
    blob = _container(storage_connection()).get_blob_client(resource_id.lower().strip("/"))
    lease = _acquire(blob, resource_id, wait_seconds)
    stop = threading.Event()
    renewing = threading.Thread(target=_keep_renewed, args=(lease, resource_id, stop), daemon=True)
    renewing.start()
    try:
        yield
    finally:
        stop.set()
        renewing.join()
        _release(lease, resource_id)


def _acquire(blob: BlobClient, resource_id: str, wait_seconds: float) -> BlobLeaseClient:
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
    from azure.storage.blob import BlobLeaseClient

    deadline = time.monotonic() + wait_seconds
    delay = FIRST_RETRY_SECONDS
    while True:
        lease = BlobLeaseClient(blob)
        try:
            lease.acquire(lease_duration=LEASE_SECONDS)
            return lease
        except ResourceNotFoundError:
            _create(blob)  # the first lease ever taken on this resource
            continue
        except ResourceExistsError as exc:
            if getattr(exc, "error_code", None) != "LeaseAlreadyPresent":  # set by azure-storage-blob
                raise
        if time.monotonic() + delay > deadline:
            raise TransientError(
                "ResourceLeased",
                f"another kubelink run kept writing {resource_id} for {wait_seconds:.0f} s",
                resource=resource_id,
                retry_after=LEASE_SECONDS,
            )
        time.sleep(delay * random.uniform(0.5, 1.5))  # jitter: waiters don't retry in lockstep
        delay = min(delay * 2, MAX_RETRY_SECONDS)


def _create(blob: BlobClient) -> None:
    """An empty blob: only its lease matters."""
    from azure.core.exceptions import ResourceExistsError

    with suppress(ResourceExistsError):  # another writer created it first
        blob.upload_blob(b"", overwrite=False)


def _keep_renewed(lease: BlobLeaseClient, resource_id: str, stop: threading.Event) -> None:
    from azure.core.exceptions import AzureError

    while not stop.wait(RENEW_SECONDS):
        try:
            lease.renew()
        except AzureError as exc:
            log.warning("lost the lease on %s while writing it: %s", resource_id, exc)
            return


def _release(lease: BlobLeaseClient, resource_id: str) -> None:
    from azure.core.exceptions import AzureError

    try:
        lease.release()
    except AzureError as exc:  # it expires on its own within LEASE_SECONDS
        log.warning("could not release the lease on %s: %s", resource_id, exc)


@functools.cache
def _container(connection: str) -> ContainerClient:
    """The leases' container (created once per process), and its HTTP connections, per connection string."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient, LinearRetry

    retry = LinearRetry(backoff=1, random_jitter_range=1, retry_total=3)  # 0-2 s each: fail soon, then durable retries
    service = BlobServiceClient.from_connection_string(connection, retry_policy=retry)
    container = service.get_container_client(CONTAINER)
    with suppress(ResourceExistsError):
        container.create_container()
    return container
