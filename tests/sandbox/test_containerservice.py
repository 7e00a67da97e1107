"""Microsoft.ContainerService: the seeded AKS cluster and its credentials for the local apiserver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient

from local.sandbox import SandboxServer, Settings

from .conftest import SUB, client_kwargs, code_of, credential, rid

#: A valid kubeconfig for an apiserver that is not running (the ILB controller just keeps retrying).
KUBECONFIG = b"""apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


@pytest.fixture
def sandbox_with_cluster(tmp_path: Path) -> Iterator[SandboxServer]:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_bytes(KUBECONFIG)
    with SandboxServer(tmp_path / "state", kubeconfig=kubeconfig, settings=Settings(ilb_delay_seconds=0.1)) as running:
        yield running


def test_cluster_runs_in_the_aks_subnet(aks: ContainerServiceClient) -> None:
    cluster = aks.managed_clusters.get("kube-rg", "kube-aks")
    assert cluster.provisioning_state == "Succeeded"
    [pool] = cluster.agent_pool_profiles
    assert pool.vnet_subnet_id == rid(
        "kube-rg", "Microsoft.Network", "virtualNetworks", "kube-vnet", "subnets", "aks-subnet"
    )
    with pytest.raises(ResourceNotFoundError) as caught:
        aks.managed_clusters.get("kube-rg", "nope")
    assert code_of(caught) == "ResourceNotFound"


def test_user_credentials_are_the_given_kubeconfig(sandbox_with_cluster: SandboxServer) -> None:
    aks = ContainerServiceClient(credential(sandbox_with_cluster), SUB, **client_kwargs(sandbox_with_cluster))
    result = aks.managed_clusters.list_cluster_user_credentials("kube-rg", "kube-aks")
    assert [(k.name, k.value) for k in result.kubeconfigs or []] == [("clusterUser", KUBECONFIG)]


def test_without_a_kubeconfig_credentials_are_a_clear_409(aks: ContainerServiceClient) -> None:
    with pytest.raises(ResourceExistsError) as caught:
        aks.managed_clusters.list_cluster_user_credentials("kube-rg", "kube-aks")
    assert code_of(caught) == "ClusterNotReachable"
