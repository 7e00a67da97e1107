"""A fresh sandbox per test (in-process, real HTTPS, seeded world) and the environment activities read.

Activities are called in-process as plain functions, with ``KUBELINK_ARM_ENDPOINT`` and
``REQUESTS_CA_BUNDLE`` pointing at the sandbox, ``AzureWebJobsStorage`` at the session's Azurite (where the
writers of shared resources take their leases) and App Service's managed-identity variables naming the sandbox's
token service, so the product's ``DefaultAzureCredential`` acts as kubelink's identity. Tests that touch
Kubernetes also request ``cluster`` (the session's kube-apiserver): the sandbox then runs its ILB controller
against it, and ``KUBELINK_KUBECONFIG`` holds the cluster's kubeconfig. A module may define a ``sandbox_seed``
fixture (a seed file) for a world other than the default.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import clients
from local.azurite import Azurite
from local.cluster import Cluster
from local.sandbox import SandboxServer, Settings
from local.sandbox.seed import DEFAULT_SEED
from tests.activities.helpers import Arm, kube_api


@pytest.fixture
def arm(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, azurite: Azurite
) -> Iterator[Arm]:
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    kubeconfig = request.getfixturevalue("cluster").kubeconfig if "cluster" in request.fixturenames else None
    seed = request.getfixturevalue("sandbox_seed") if "sandbox_seed" in request.fixturenames else DEFAULT_SEED
    settings = Settings(lro_seconds=0.2, gateway_seconds=1.0, ilb_delay_seconds=0.2)
    with SandboxServer(tmp_path / "sandbox", kubeconfig=kubeconfig, settings=settings, seed=seed) as sandbox:
        monkeypatch.setenv("KUBELINK_ARM_ENDPOINT", sandbox.arm_url)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
        for name, value in sandbox.app_identity_environment().items():  # kubelink's identity, as App Service
            monkeypatch.setenv(name, value)
        clients.arm_credential.cache_clear()  # a credential of an earlier sandbox holds tokens it signed
        if kubeconfig is not None:
            monkeypatch.setenv("KUBELINK_KUBECONFIG", base64.b64encode(kubeconfig.read_bytes()).decode())
        yield Arm(sandbox)
    clients.arm_credential.cache_clear()


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    """A namespace of its own, so tests sharing the session's cluster never see each other's Services.

    Its Services are deleted afterwards: the next sandbox's ILB controller would otherwise see them
    holding the pinned IP (the namespace itself stays Terminating, with no controller-manager to finish it).
    """
    name = f"kl-{uuid.uuid4().hex[:10]}"
    api = kube_api(cluster)
    api.create_namespace({"metadata": {"name": name}})
    yield name
    for service in api.list_namespaced_service(name).items:
        api.delete_namespaced_service(service.metadata.name, name, _preload_content=False)


@pytest.fixture
def kube_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every write the activities' Kubernetes client sends (method, URL), recorded at its HTTP layer.

    Only the test's own thread counts: the in-process sandbox's ILB controller writes from its threads.
    """
    from kubernetes.client import rest

    sent: list[tuple[str, str]] = []
    request = rest.RESTClientObject.request
    test_thread = threading.get_ident()

    def recording(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == test_thread and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            sent.append((method.upper(), url))
        return request(self, method, url, *args, **kwargs)

    monkeypatch.setattr(rest.RESTClientObject, "request", recording)
    return sent
