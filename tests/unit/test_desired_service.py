"""The Service's owned fields, diff and strategic-merge patch (pure)."""

from __future__ import annotations

from kubelink.desired.service import (
    INTERNAL,
    INTERNAL_SUBNET,
    IPV4,
    ServiceState,
    desired_service,
    diff_service,
    restore_patch,
    service_patch,
)
from kubelink.diff import ResourceChange
from kubelink.ownership import ADOPTED_BY_ANNOTATION, CREATED_BY_ANNOTATION
from tests.activities.specs import link_spec

FOREIGN = "prometheus.io/scrape"


def observed(**spec_changes: object) -> dict:
    """A Service as the apiserver returns it after kubelink created it, plus what others added."""
    body = desired_service(link_spec())
    body["metadata"]["annotations"][FOREIGN] = "true"
    body["metadata"]["resourceVersion"] = "42"
    body["spec"]["clusterIP"] = "10.96.0.17"
    body["spec"]["ports"] = [{**p, "nodePort": 31000 + i} for i, p in enumerate(body["spec"]["ports"])]
    body["spec"].update(spec_changes)
    body["status"] = {"loadBalancer": {"ingress": [{"ip": "10.240.16.25"}]}}
    return body


def test_create_body_carries_string_annotations_type_selector_and_ports():
    body = desired_service(link_spec())
    assert body["metadata"]["annotations"] == {
        INTERNAL: "true",
        INTERNAL_SUBNET: "ilb-subnet",
        IPV4: "10.240.16.25",
        CREATED_BY_ANNOTATION: "orders-api",  # kubelink's mark: teardown deletes only what carries it
    }
    assert body["spec"] == {
        "type": "LoadBalancer",
        "selector": {"app": "orders"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
    }


def test_optional_annotations_are_not_owned_when_the_spec_leaves_them_out():
    spec = link_spec(kubernetes={"loadBalancerSubnet": None, "loadBalancerIP": None})
    state = ServiceState.from_api(observed())
    assert desired_service(spec)["metadata"]["annotations"] == {INTERNAL: "true", CREATED_BY_ANNOTATION: spec.name}
    assert diff_service(spec, state) == ()
    assert service_patch(spec, state) == {}


def test_missing_service_is_all_adds_and_a_create():
    spec = link_spec()
    changes = diff_service(spec, ServiceState.from_api(None))
    assert {c.op for c in changes} == {"add"}
    assert {c.field_text for c in changes} == {
        f"metadata.annotations[{INTERNAL}]",
        f"metadata.annotations[{INTERNAL_SUBNET}]",
        f"metadata.annotations[{IPV4}]",
        "spec.type",
        "spec.selector",
        "spec.ports",
    }
    assert ResourceChange("service", "default/orders-internal", False, changes).action == "create"


def test_converged_service_ignores_cluster_ip_node_ports_and_foreign_annotations():
    state = ServiceState.from_api(observed())
    assert state.ingress_ip == "10.240.16.25"
    assert diff_service(link_spec(), state) == ()
    assert service_patch(link_spec(), state) == {}


def test_public_cluster_ip_service_is_patched_with_owned_fields_only():
    body = observed(type="ClusterIP")
    body["metadata"]["annotations"] = {FOREIGN: "true", INTERNAL: "false"}
    patch = service_patch(link_spec(), ServiceState.from_api(body))
    assert patch == {
        "metadata": {
            "annotations": {
                INTERNAL: "true",
                INTERNAL_SUBNET: "ilb-subnet",
                IPV4: "10.240.16.25",
                ADOPTED_BY_ANNOTATION: "orders-api",  # changed for the first time: marked as adopted
            }
        },
        "spec": {"type": "LoadBalancer"},
    }


def test_a_service_kubelink_created_is_patched_without_an_adoption_mark():
    body = observed(type="ClusterIP")
    body["metadata"]["annotations"] = {INTERNAL: "true", CREATED_BY_ANNOTATION: "orders-api"}
    patch = service_patch(link_spec(), ServiceState.from_api(body))
    assert ADOPTED_BY_ANNOTATION not in patch["metadata"]["annotations"]


def test_restore_patch_gives_an_adopted_service_back_its_owned_fields_and_drops_the_mark():
    body = observed(type="ClusterIP", selector={"app": "orders", "tier": "web"})
    body["metadata"]["annotations"] = {FOREIGN: "true", INTERNAL: "false"}
    before = ServiceState.from_api(body).owned_fields()
    assert before["annotations"] == {INTERNAL: "false", INTERNAL_SUBNET: None, IPV4: None}
    now = ServiceState.from_api(observed(selector={"app": "orders", "added": "x"}))
    restore = restore_patch(before, now)
    assert restore["metadata"]["annotations"] == {
        INTERNAL: "false",
        INTERNAL_SUBNET: None,
        IPV4: None,
        ADOPTED_BY_ANNOTATION: None,
    }
    assert restore["spec"]["type"] == "ClusterIP"
    assert restore["spec"]["selector"] == {"added": None, "app": "orders", "tier": "web"}
    assert restore["spec"]["ports"] == before["ports"]


def test_unwanted_selector_keys_are_nulled_and_extra_ports_deleted_without_touching_node_ports():
    body = observed(selector={"app": "orders", "tier": "old"})
    body["spec"]["ports"].append({"name": "debug", "port": 9000, "targetPort": 9000, "protocol": "TCP", "nodePort": 1})
    state = ServiceState.from_api(body)
    assert {c.field_text for c in diff_service(link_spec(), state)} == {"spec.selector", "spec.ports"}
    patch = service_patch(link_spec(), state)
    assert patch == {
        "spec": {
            "selector": {"tier": None, "app": "orders"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                {"port": 9000, "$patch": "delete"},
            ],
        }
    }


def test_changed_target_port_is_a_change_of_the_ports():
    body = observed(ports=[{"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP", "nodePort": 30080}])
    (change,) = diff_service(link_spec(), ServiceState.from_api(body))
    assert change.field_text == "spec.ports"
    assert change.old == [{"port": 80, "targetPort": 80, "protocol": "TCP", "name": "http"}]
    assert change.new == [{"port": 80, "targetPort": 8080, "protocol": "TCP", "name": "http"}]


def test_port_order_and_unnamed_spec_ports_do_not_count_as_drift():
    ports = [{"name": "a", "port": 443, "targetPort": "https"}, {"name": "b", "port": 80, "targetPort": 8080}]
    body = observed(
        ports=[
            {"name": "b", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30001},
            {"name": "a", "port": 443, "targetPort": "https", "protocol": "TCP", "nodePort": 30002},
        ]
    )
    assert diff_service(link_spec(kubernetes={"ports": ports}), ServiceState.from_api(body)) == ()
    # a single port may be unnamed in the spec (only a multi-port Service must name them): any name is kept
    unnamed = link_spec(kubernetes={"ports": [{"port": 80, "targetPort": 8080}]})
    assert diff_service(unnamed, ServiceState.from_api(observed(ports=[body["spec"]["ports"][0]]))) == ()


def test_selector_values_are_case_sensitive():
    body = observed(selector={"app": "Orders"})
    (change,) = diff_service(link_spec(), ServiceState.from_api(body))
    assert (change.field_text, change.old, change.new) == ("spec.selector", {"app": "Orders"}, {"app": "orders"})
