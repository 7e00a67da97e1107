"""ensure_service and observe_service_ip against the real kube-apiserver (and the sandbox's ILB controller)."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
import yaml

from activities.service import ensure_service, observe_service_ip
from activities.teardown import release_service
from kubelink.desired.service import INTERNAL, INTERNAL_SUBNET, IPV4
from kubelink.ownership import ADOPTED_BY_ANNOTATION, CREATED_BY_ANNOTATION
from local.cluster import Cluster
from tests.activities.helpers import kube_api
from tests.activities.specs import payload

FOREIGN = "prometheus.io/scrape"

pytestmark = pytest.mark.usefixtures("arm")


def link(namespace: str, **kubernetes: Any) -> dict[str, Any]:
    return payload(kubernetes={"namespace": namespace, **kubernetes})


def read(cluster: Cluster, namespace: str) -> dict[str, Any]:
    service: dict[str, Any] = kube_api(cluster).read_namespaced_service("orders-internal", namespace).to_dict()
    return service


def test_fresh_service_is_created_then_left_alone(cluster: Cluster, namespace: str, kube_writes: list):
    first = ensure_service(link(namespace))
    assert first["ok"], first
    assert first["result"] == "created"
    assert {c["field"] for c in first["changes"]} >= {"spec.type", "spec.ports", "spec.selector"}
    assert [m for m, _ in kube_writes] == ["POST"]
    service = read(cluster, namespace)
    assert service["metadata"]["annotations"] == {
        INTERNAL: "true",
        INTERNAL_SUBNET: "ilb-subnet",
        IPV4: "10.240.16.25",
        CREATED_BY_ANNOTATION: "orders-api",
    }
    assert first["adopted"] == {}  # created, not adopted: nothing to give back
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["selector"] == {"app": "orders"}

    kube_writes.clear()
    second = ensure_service(link(namespace))
    assert (second["ok"], second["result"], second["changes"]) == (True, "unchanged", [])
    assert kube_writes == []


def test_adoption_patches_owned_fields_only(cluster: Cluster, namespace: str, kube_writes: list):
    someone_elses_service(cluster, namespace, http_node_port=30180)
    before = read(cluster, namespace)
    kube_writes.clear()

    adopted = ensure_service(link(namespace))
    assert adopted["ok"], adopted
    assert adopted["result"] == "updated"
    assert [m for m, _ in kube_writes] == ["PATCH"]
    after = read(cluster, namespace)
    assert after["spec"]["cluster_ip"] == before["spec"]["cluster_ip"]
    assert after["metadata"]["annotations"][FOREIGN] == "true"
    assert after["metadata"]["annotations"][INTERNAL] == "true"
    assert after["spec"]["selector"] == {"app": "orders"}
    (port,) = after["spec"]["ports"]
    assert (port["port"], port["target_port"], port["node_port"]) == (80, 8080, 30180)

    kube_writes.clear()
    assert ensure_service(link(namespace))["result"] == "unchanged"
    assert kube_writes == []


def test_without_an_ip_the_warning_events_explain_why(cluster: Cluster, namespace: str):
    ensure_service(link(namespace, loadBalancerSubnet="no-such-subnet", loadBalancerIP=None))
    kube_api(cluster).create_namespaced_event(
        namespace,
        {
            "metadata": {"name": "orders-internal.1"},
            "involvedObject": {"kind": "Service", "name": "orders-internal", "namespace": namespace},
            "type": "Warning",
            "reason": "SyncLoadBalancerFailed",
            "message": "Error syncing load balancer: subnet no-such-subnet not found",
            "lastTimestamp": "2026-11-30T16:00:00Z",
        },
    )
    observed = observe_service_ip(link(namespace, loadBalancerSubnet="no-such-subnet", loadBalancerIP=None))
    assert observed["ok"] and observed["ip"] is None, observed
    assert (
        "SyncLoadBalancerFailed: Error syncing load balancer: subnet no-such-subnet not found" in observed["warnings"]
    )


def test_the_ilb_controller_gives_the_pinned_private_ip(namespace: str):
    ensure_service(link(namespace))
    deadline = time.monotonic() + 15
    while (observed := observe_service_ip(link(namespace)))["ip"] is None:
        assert observed["ok"], observed
        assert time.monotonic() < deadline, observed
        time.sleep(0.2)
    assert observed == {"ok": True, "ip": "10.240.16.25", "warnings": []}


def test_a_deleted_service_is_a_permanent_error(namespace: str):
    observed = observe_service_ip(link(namespace))
    assert observed["ok"] is False
    assert observed["error"]["code"] == "ServiceNotFound"
    assert observed["error"]["resource"] == f"{namespace}/orders-internal"


def test_kubernetes_rejections_are_permanent_and_carry_its_reason(namespace: str):
    # valid as a link spec, refused by this apiserver (v1.20: a LoadBalancer Service may not mix protocols
    # unless the MixedProtocolLBService feature gate, alpha and off by default, is on)
    mixed = [
        {"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "port": 53, "targetPort": 53, "protocol": "TCP"},
    ]
    rejected = ensure_service(link(namespace, ports=mixed))
    assert rejected["ok"] is False
    assert (rejected["error"]["code"], rejected["error"]["transient"]) == ("Invalid", False)
    assert rejected["error"]["step"] == "service"


def test_an_unreachable_apiserver_is_transient(cluster: Cluster, namespace: str, monkeypatch: pytest.MonkeyPatch):
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"
    monkeypatch.setenv("KUBELINK_KUBECONFIG", base64.b64encode(yaml.safe_dump(config).encode()).decode())
    unreachable = ensure_service(link(namespace))
    assert unreachable["ok"] is False
    assert unreachable["error"]["transient"] is True
    assert cluster.token not in str(unreachable)


# --- teardown: release_service ------------------------------------------------------------------------


def _comparable(service: dict[str, Any]) -> dict[str, Any]:
    """A Service without what the apiserver changes on every write (resourceVersion, managedFields, status)."""
    metadata = {k: v for k, v in service["metadata"].items() if k not in ("resource_version", "managed_fields")}
    return {"metadata": metadata, "spec": service["spec"]}


def test_teardown_deletes_a_service_kubelink_created(cluster: Cluster, namespace: str):
    assert ensure_service(link(namespace))["result"] == "created"
    released = release_service({**link(namespace), "ownership": {}})
    assert released["ok"] and released["removed"] == [f"{namespace}/orders-internal"], released
    assert kube_api(cluster).list_namespaced_service(namespace).items == []
    again = release_service({**link(namespace), "ownership": {}})  # idempotent: a second teardown finds nothing
    assert (again["ok"], again["removed"], again["restored"], again["kept"]) == (True, [], [], [])


def test_teardown_gives_an_adopted_service_back_exactly_what_it_had(cluster: Cluster, namespace: str):
    someone_elses_service(cluster, namespace, http_node_port=30181, debug_node_port=30182)
    before = _comparable(read(cluster, namespace))
    adopted = ensure_service(link(namespace))
    assert adopted["result"] == "updated"
    assert set(adopted["adopted"]["service"]) == {"annotations", "type", "selector", "ports"}
    assert read(cluster, namespace)["metadata"]["annotations"][ADOPTED_BY_ANNOTATION] == "orders-api"
    again = ensure_service(link(namespace))  # converged: nothing new to record
    assert again["adopted"] == {}

    released = release_service({**link(namespace), "ownership": {"adopted": adopted["adopted"]}})
    assert released["ok"] and released["restored"] == [f"{namespace}/orders-internal"], released
    assert _comparable(read(cluster, namespace)) == before


def test_teardown_leaves_a_service_kubelink_never_changed(cluster: Cluster, namespace: str, kube_writes: list):
    kube_api(cluster).create_namespaced_service(
        namespace,
        {"metadata": {"name": "orders-internal"}, "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}},
    )
    kube_writes.clear()
    released = release_service({**link(namespace), "ownership": {}})
    assert released["ok"] and released["kept"][0]["resource"] == f"{namespace}/orders-internal", released
    assert kube_writes == []


def someone_elses_service(
    cluster: Cluster, namespace: str, http_node_port: int, debug_node_port: int | None = None
) -> None:
    """``orders-internal`` as someone else made it: a foreign annotation, public, a legacy selector, two ports
    (node ports pinned where given: node ports are unique across the cluster)."""
    debug: dict[str, Any] = {"name": "debug", "port": 9000, "targetPort": 9000}
    if debug_node_port is not None:
        debug["nodePort"] = debug_node_port
    kube_api(cluster).create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "orders-internal", "annotations": {FOREIGN: "true", INTERNAL: "false"}},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app": "orders", "tier": "legacy"},
                "ports": [{"name": "http", "port": 80, "targetPort": 80, "nodePort": http_node_port}, debug],
            },
        },
    )
