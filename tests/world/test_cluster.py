"""The real kube-apiserver (Debian source, Debian Go) behind the kubeconfig the world hands out."""

from __future__ import annotations

import base64
import time

import pytest
import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from local.cluster import VERSION, Cluster, build

INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal"


@pytest.fixture
def core(cluster: Cluster) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(cluster.kubeconfig)))


def test_build_is_cached_and_reports_the_version() -> None:
    started = time.monotonic()
    binary = build()
    assert time.monotonic() - started < 10, "a cached build must not rebuild"
    assert VERSION in binary.name


def test_kubeconfig_verifies_tls_with_its_own_ca(cluster: Cluster) -> None:
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    entry = kubeconfig["clusters"][0]["cluster"]
    assert entry["server"] == cluster.server and entry["server"].startswith("https://127.0.0.1:")
    assert "insecure-skip-tls-verify" not in entry
    assert base64.b64decode(entry["certificate-authority-data"]) == cluster.ca_file.read_bytes()
    assert kubeconfig["users"][0]["user"]["token"] == cluster.token


def _configuration(cluster: Cluster, token: str, ca: str | None) -> client.Configuration:
    cfg = client.Configuration()
    cfg.host = cluster.server
    cfg.api_key = {"BearerToken": f"Bearer {token}"}
    cfg.ssl_ca_cert = ca
    cfg.retries = 0
    return cfg


def test_server_certificate_is_not_trusted_without_the_ca(cluster: Cluster) -> None:
    api = client.CoreV1Api(client.ApiClient(_configuration(cluster, cluster.token, ca=None)))
    with pytest.raises(urllib3.exceptions.MaxRetryError, match="CERTIFICATE_VERIFY_FAILED"):
        api.list_namespace()


def test_only_the_kubeconfig_token_is_accepted(cluster: Cluster) -> None:
    def namespaces(token: str) -> list[str]:
        api = client.CoreV1Api(client.ApiClient(_configuration(cluster, token, ca=str(cluster.ca_file))))
        return [str(ns.metadata.name) for ns in api.list_namespace().items if ns.metadata]

    assert {"default", "kube-system"} <= set(namespaces(cluster.token))
    with pytest.raises(ApiException) as err:
        namespaces("not-the-token")
    assert err.value.status == 401


def _service(name: str) -> client.V1Service:
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=name, annotations={INTERNAL: "true"}),
        spec=client.V1ServiceSpec(
            type="LoadBalancer",
            selector={"app": "privatestuff"},
            ports=[client.V1ServicePort(name="http", port=80, target_port=8080)],
        ),
    )


def test_service_create_patch_status_and_read(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_service("default", _service("world-svc")).to_dict()
    assert created["spec"]["cluster_ip"].startswith("10.96.0.")
    assert created["spec"]["ports"][0]["node_port"], "a LoadBalancer Service gets a nodePort from the real apiserver"

    with pytest.raises(ApiException) as duplicate:
        core.create_namespaced_service("default", _service("world-svc"))
    assert duplicate.value.status == 409

    # Strategic merge: ports merge by port number, annotations merge by key.
    core.patch_namespaced_service(
        "world-svc",
        "default",
        {"metadata": {"annotations": {"extra": "1"}}, "spec": {"ports": [{"name": "https", "port": 443}]}},
    )
    core.patch_namespaced_service_status(
        "world-svc", "default", {"status": {"loadBalancer": {"ingress": [{"ip": "10.240.0.7"}]}}}
    )

    read = core.read_namespaced_service("world-svc", "default").to_dict()
    assert read["metadata"]["annotations"] == {INTERNAL: "true", "extra": "1"}
    assert sorted(p["port"] for p in read["spec"]["ports"]) == [80, 443]
    assert read["status"]["load_balancer"]["ingress"][0]["ip"] == "10.240.0.7"
    assert int(read["metadata"]["resource_version"]) > int(created["metadata"]["resource_version"])

    core.delete_namespaced_service("world-svc", "default", _preload_content=False)
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_service("world-svc", "default")
    assert gone.value.status == 404
