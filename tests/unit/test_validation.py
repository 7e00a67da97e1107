"""parse_link_spec: every rule of the README's spec table, and a hostile corpus where each body must be refused
naming exactly the bad fields (and only them)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from kubelink.errors import InvalidLinkSpec
from kubelink.spec import LinkSpec
from kubelink.validation import MAX_BODY_BYTES, is_link_name, parse_link_spec
from tests.unit.samples import BASE, REGIONAL, SUB


def body(change: Callable[[dict[str, Any]], object] | None = None, base: dict[str, Any] = BASE) -> dict[str, Any]:
    """A copy of ``base`` after ``change`` (which edits it in place)."""
    data = copy.deepcopy(base)
    if change:
        change(data)
    return data


def errors(data: object) -> dict[str, str]:
    with pytest.raises(InvalidLinkSpec) as caught:
        parse_link_spec(data if isinstance(data, bytes | str) else json.dumps(data))
    details = caught.value.details
    assert details, "an InvalidLinkSpec always names at least one field"
    return {d.field: d.message for d in details}


def fields(data: object) -> set[str]:
    return set(errors(data))


def put(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Set a dotted path (``kubernetes.ports.0.port``) in a body."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return change


# --- good bodies ---------------------------------------------------------------------------------


def test_the_example_body_parses_with_defaults_filled() -> None:
    spec = parse_link_spec(json.dumps(BASE).encode())
    assert spec.name == "orders-api"
    assert spec.kubernetes.kubeconfig_setting == "KUBELINK_KUBECONFIG"
    assert spec.kubernetes.ports[0].protocol == "TCP"
    assert spec.gateway.name == "kube-vnet-gw"
    assert spec.gateway.public_ip_name == "kube-vnet-gw-pip"
    assert spec.gateway.sku == "VpnGw1AZ"
    assert spec.app.setting == "PrivateAddress"
    assert spec.probe is not None and spec.probe.expect_status == 200
    assert spec.integration == "gateway"
    assert spec.remediate is False


@pytest.mark.parametrize("base", [BASE, REGIONAL], ids=["gateway", "regional"])
def test_to_json_round_trips(base: dict[str, Any]) -> None:
    spec = parse_link_spec(json.dumps(base))
    assert parse_link_spec(json.dumps(spec.to_json())) == spec
    assert parse_link_spec(spec.to_json()) == spec  # an already-parsed object is accepted too


def test_a_full_body_with_every_optional_field() -> None:
    full = body(
        lambda d: d.update(
            remediate=True,
            dns={"zone": "orders.internal.example", "record": "@"},
            kubernetes={
                **d["kubernetes"],
                "kubeconfigSetting": "ORDERS_KUBECONFIG",
                "aksCluster": f"/subscriptions/{SUB}/resourceGroups/kube-rg/providers/"
                "Microsoft.ContainerService/managedClusters/orders-aks",
                "selector": {"app.kubernetes.io/name": "orders", "tier": ""},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http-alt"},
                    {"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "targetPort": 53, "protocol": "TCP"},
                ],
            },
            gateway={**d["gateway"], "name": "gw", "sku": "VpnGw5", "publicIpName": "gw-ip"},
            app={**d["app"], "setting": "Orders.Private_Address"},
            probe={"path": "/api/privatestuff?deep=1", "expectStatus": 204},
        )
    )
    spec = parse_link_spec(full)
    assert spec.dns is not None and spec.dns.fqdn == "orders.internal.example"
    assert spec.kubernetes.ports[0].target_port == "http-alt"
    assert spec.gateway.sku == "VpnGw5"  # legacy: accepted here, pre-flight checks the gateway exists
    assert dict(spec.kubernetes.selector) == {"app.kubernetes.io/name": "orders", "tier": ""}


def test_regional_needs_no_gateway_section() -> None:
    spec = parse_link_spec(REGIONAL)
    assert spec.integration == "regional"
    assert spec.gateway.client_address_pool is None
    assert spec.app.subnet is not None and spec.app.subnet.prefix == "10.240.254.0/26"


def test_regional_still_type_checks_an_ignored_pool() -> None:
    assert fields(body(put("gateway", {"clientAddressPool": 5}), REGIONAL)) == {"gateway.clientAddressPool"}
    parse_link_spec(body(put("gateway", {"clientAddressPool": "10.1.0.0/24"}), REGIONAL))


def test_unicode_resource_group_names_are_azure_names() -> None:
    parse_link_spec(body(put("network.resourceGroup", "réseau_(prod)-1")))


def test_is_link_name() -> None:
    assert is_link_name("orders-api")
    assert not is_link_name("Orders")
    assert not is_link_name("a/b")


# --- the hostile corpus: (body, exactly the fields it must name) ------------------------------------

HUGE = 10**30
AKS = "providers/Microsoft.ContainerService/managedClusters"
CORPUS: list[tuple[str, object, set[str]]] = [
    # the body itself
    ("empty", b"", {"body"}),
    ("whitespace", b"  \n ", {"body"}),
    ("not json", b"name=orders", {"body"}),
    ("truncated json", json.dumps(BASE)[:-1], {"body"}),
    ("trailing garbage", json.dumps(BASE) + "}", {"body"}),
    ("array", b"[]", {"body"}),
    ("array of body", json.dumps([BASE]), {"body"}),
    ("string", b'"orders"', {"body"}),
    ("number", b"42", {"body"}),
    ("null", b"null", {"body"}),
    ("NaN literal", json.dumps(BASE).replace('"remediate"', '"x"')[:-1] + ', "remediate": NaN}', {"body"}),
    ("Infinity", json.dumps(body(put("probe.expectStatus", 1))).replace(": 1}", ": Infinity}"), {"body"}),
    ("latin-1 bytes", json.dumps(BASE).replace("kubelink-demo", "kubelink-dém").encode("latin-1"), {"body"}),
    ("oversized", json.dumps(body(put("kubernetes.namespace", "a" * MAX_BODY_BYTES))), {"body"}),
    ("deeply nested", "[" * 50_000 + "]" * 50_000, {"body"}),
    (
        "deeply nested in a field",
        json.dumps(body(put("remediate", "X"))).replace('"X"', "[" * 20_000 + "]" * 20_000),
        {"body"},
    ),
    # required fields
    ("empty object", {}, {"name", "subscriptionId", "network", "kubernetes", "gateway.clientAddressPool", "app"}),
    ("no name", body(drop("name")), {"name"}),
    ("no subscription", body(drop("subscriptionId")), {"subscriptionId"}),
    ("no network fields", body(put("network", {})), {"network.resourceGroup", "network.virtualNetwork"}),
    ("no service", body(drop("kubernetes.service")), {"kubernetes.service"}),
    ("no selector", body(drop("kubernetes.selector")), {"kubernetes.selector"}),
    ("no ports", body(drop("kubernetes.ports")), {"kubernetes.ports"}),
    ("no port number", body(drop("kubernetes.ports.0.port")), {"kubernetes.ports[0].port"}),
    ("no target port", body(drop("kubernetes.ports.0.targetPort")), {"kubernetes.ports[0].targetPort"}),
    ("no gateway", body(drop("gateway")), {"gateway.clientAddressPool"}),
    ("no pool", body(drop("gateway.clientAddressPool")), {"gateway.clientAddressPool"}),
    ("no app fields", body(put("app", {})), {"app.resourceGroup", "app.name"}),
    ("regional without subnet", body(drop("app.subnet"), REGIONAL), {"app.subnet"}),
    ("subnet without prefix", body(drop("app.subnet.prefix"), REGIONAL), {"app.subnet.prefix"}),
    ("probe without path", body(put("probe", {"expectStatus": 200})), {"probe.path"}),
    ("dns without record", body(put("dns", {"zone": "a.example"})), {"dns.record"}),
    # nulls are not absences
    ("null name", body(put("name", None)), {"name"}),
    ("null network", body(put("network", None)), {"network"}),
    ("null optional", body(put("kubernetes.loadBalancerIP", None)), {"kubernetes.loadBalancerIP"}),
    ("null gateway", body(put("gateway", None)), {"gateway"}),
    ("null probe", body(put("probe", None)), {"probe"}),
    ("null selector value", body(put("kubernetes.selector.app", None)), {"kubernetes.selector.app"}),
    ("null port", body(put("kubernetes.ports", [None])), {"kubernetes.ports[0]"}),
    # types
    ("name as number", body(put("name", 7)), {"name"}),
    ("network as array", body(put("network", ["kube-rg"])), {"network"}),
    ("kubernetes as string", body(put("kubernetes", "default/orders")), {"kubernetes"}),
    ("selector as array", body(put("kubernetes.selector", ["app=orders"])), {"kubernetes.selector"}),
    ("selector value as number", body(put("kubernetes.selector.app", 1)), {"kubernetes.selector.app"}),
    ("ports as object", body(put("kubernetes.ports", {"port": 80})), {"kubernetes.ports"}),
    ("port as string", body(put("kubernetes.ports.0.port", "80")), {"kubernetes.ports[0].port"}),
    ("port as float", body(put("kubernetes.ports.0.port", 80.5)), {"kubernetes.ports[0].port"}),
    ("port as whole float", body(put("kubernetes.ports.0.port", 80.0)), {"kubernetes.ports[0].port"}),
    ("port as bool", body(put("kubernetes.ports.0.port", True)), {"kubernetes.ports[0].port"}),
    ("target port as bool", body(put("kubernetes.ports.0.targetPort", False)), {"kubernetes.ports[0].targetPort"}),
    ("target port as list", body(put("kubernetes.ports.0.targetPort", [8080])), {"kubernetes.ports[0].targetPort"}),
    ("remediate as int", body(put("remediate", 1)), {"remediate"}),
    ("remediate as string", body(put("remediate", "true")), {"remediate"}),
    ("remediate as another policy", body(put("remediate", "restart-only")), {"remediate"}),
    ("expectStatus as bool", body(put("probe.expectStatus", True)), {"probe.expectStatus"}),
    ("expectStatus as string", body(put("probe.expectStatus", "200")), {"probe.expectStatus"}),
    ("integration as bool", body(put("integration", True)), {"integration"}),
    ("subnet as string", body(put("app.subnet", "apps"), REGIONAL), {"app.subnet"}),
    # huge numbers
    ("huge port", body(put("kubernetes.ports.0.port", HUGE)), {"kubernetes.ports[0].port"}),
    ("negative port", body(put("kubernetes.ports.0.port", -80)), {"kubernetes.ports[0].port"}),
    ("huge target port", body(put("kubernetes.ports.0.targetPort", HUGE)), {"kubernetes.ports[0].targetPort"}),
    (
        "1e400",
        json.dumps(body(put("kubernetes.ports.0.port", 1))).replace('"port": 1,', '"port": 1e400,'),
        {"kubernetes.ports[0].port"},
    ),
    (
        "5000 digits",
        json.dumps(body(put("kubernetes.ports.0.port", 1))).replace('"port": 1,', '"port": 1' + "0" * 5000 + ","),
        {"kubernetes.ports[0].port"},
    ),
    ("status out of range", body(put("probe.expectStatus", 600)), {"probe.expectStatus"}),
    ("status too low", body(put("probe.expectStatus", 99)), {"probe.expectStatus"}),
    # unknown fields at every level (with a hint)
    ("unknown top", body(put("subscriptionID", SUB)), {"subscriptionID"}),
    ("unknown network", body(put("network.location", "westeurope")), {"network.location"}),
    ("unknown kubernetes", body(put("kubernetes.type", "LoadBalancer")), {"kubernetes.type"}),
    ("unknown port", body(put("kubernetes.ports.0.nodePort", 30080)), {"kubernetes.ports[0].nodePort"}),
    ("unknown gateway", body(put("gateway.vpnType", "RouteBased")), {"gateway.vpnType"}),
    ("unknown app", body(put("app.slot", "staging")), {"app.slot"}),
    ("unknown subnet", body(put("app.subnet.delegation", "x"), REGIONAL), {"app.subnet.delegation"}),
    ("unknown probe", body(put("probe.timeout", 5)), {"probe.timeout"}),
    ("unknown dns", body(put("dns", {"zone": "a.example", "record": "x", "ttl": 300})), {"dns.ttl"}),
    ("unknown odd key", body(lambda d: d.update({"kube.rnetes": {}})), {'["kube.rnetes"]'}),
    ("unknown unicode key", body(put("näme", "x")), {'["näme"]'}),
    (
        "duplicate key",
        json.dumps(BASE).replace('"name": "orders-api"', '"name": "orders-api", "name": "other"'),
        {"name"},
    ),
    (
        "duplicate nested key",
        json.dumps(BASE).replace('"virtualNetwork": "kube-vnet"', '"virtualNetwork": "a1", "virtualNetwork": "a2"'),
        {"network.virtualNetwork"},
    ),
    # names
    ("name too short", body(put("name", "ab")), {"name"}),
    ("name too long", body(put("name", "a" * 41)), {"name"}),
    ("name uppercase", body(put("name", "Orders")), {"name"}),
    ("name starts with digit", body(put("name", "1orders")), {"name"}),
    ("name ends with dash", body(put("name", "orders-")), {"name"}),
    ("name unicode", body(put("name", "ordérs")), {"name"}),
    ("name unicode digit", body(put("name", "orders\u0661")), {"name"}),
    ("name trailing newline", body(put("name", "orders\n")), {"name"}),
    ("name with NUL", body(put("name", "ord\u0000ers")), {"name"}),
    ("name slash", body(put("name", "a/b/c")), {"name"}),
    ("subscription not guid", body(put("subscriptionId", "my-subscription")), {"subscriptionId"}),
    ("subscription braces", body(put("subscriptionId", "{" + SUB + "}")), {"subscriptionId"}),
    ("rg ends with dot", body(put("network.resourceGroup", "kube.")), {"network.resourceGroup"}),
    ("rg too long", body(put("network.resourceGroup", "r" * 91)), {"network.resourceGroup"}),
    ("rg empty", body(put("app.resourceGroup", "")), {"app.resourceGroup"}),
    ("rg with slash", body(put("app.resourceGroup", "a/b")), {"app.resourceGroup"}),
    ("vnet one char", body(put("network.virtualNetwork", "v")), {"network.virtualNetwork"}),
    ("vnet ends with dash", body(put("network.virtualNetwork", "vnet-")), {"network.virtualNetwork"}),
    ("vnet too long", body(put("network.virtualNetwork", "v" * 65)), {"network.virtualNetwork"}),
    ("site name dots", body(put("app.name", "my.app")), {"app.name"}),
    ("site name too long", body(put("app.name", "a" * 61)), {"app.name"}),
    ("namespace uppercase", body(put("kubernetes.namespace", "Default")), {"kubernetes.namespace"}),
    ("namespace too long", body(put("kubernetes.namespace", "n" * 64)), {"kubernetes.namespace"}),
    ("service starts with digit", body(put("kubernetes.service", "1svc")), {"kubernetes.service"}),
    ("service dots", body(put("kubernetes.service", "orders.internal")), {"kubernetes.service"}),
    (
        "kubeconfig setting dash",
        body(put("kubernetes.kubeconfigSetting", "MY-KUBECONFIG")),
        {"kubernetes.kubeconfigSetting"},
    ),
    ("app setting space", body(put("app.setting", "Private Address")), {"app.setting"}),
    ("app setting empty", body(put("app.setting", "")), {"app.setting"}),
    ("gateway name bad", body(put("gateway.name", "-gw")), {"gateway.name"}),
    ("gateway name too long for pip", body(put("gateway.name", "g" * 78)), {"gateway.name"}),
    ("pip name bad", body(put("gateway.publicIpName", "pip.")), {"gateway.publicIpName"}),
    # selector
    ("empty selector", body(put("kubernetes.selector", {})), {"kubernetes.selector"}),
    ("selector bad key", body(put("kubernetes.selector", {"-app": "x"})), {'kubernetes.selector["-app"]'}),
    (
        "selector bad prefix",
        body(put("kubernetes.selector", {"Example.com/app": "x"})),
        {'kubernetes.selector["Example.com/app"]'},
    ),
    ("selector long value", body(put("kubernetes.selector.app", "v" * 64)), {"kubernetes.selector.app"}),
    ("selector value spaces", body(put("kubernetes.selector.app", "my app")), {"kubernetes.selector.app"}),
    ("selector too many", body(put("kubernetes.selector", {f"l{i}": "v" for i in range(33)})), {"kubernetes.selector"}),
    # ports
    ("no ports at all", body(put("kubernetes.ports", [])), {"kubernetes.ports"}),
    (
        "21 ports",
        body(put("kubernetes.ports", [{"name": f"p{i}", "port": 1000 + i, "targetPort": 80} for i in range(21)])),
        {"kubernetes.ports"},
    ),
    ("port zero", body(put("kubernetes.ports.0.port", 0)), {"kubernetes.ports[0].port"}),
    ("port 65536", body(put("kubernetes.ports.0.port", 65536)), {"kubernetes.ports[0].port"}),
    ("target port 0", body(put("kubernetes.ports.0.targetPort", 0)), {"kubernetes.ports[0].targetPort"}),
    ("target name too long", body(put("kubernetes.ports.0.targetPort", "a" * 16)), {"kubernetes.ports[0].targetPort"}),
    ("target name digits only", body(put("kubernetes.ports.0.targetPort", "8080")), {"kubernetes.ports[0].targetPort"}),
    (
        "target name double dash",
        body(put("kubernetes.ports.0.targetPort", "my--port")),
        {"kubernetes.ports[0].targetPort"},
    ),
    ("protocol lowercase", body(put("kubernetes.ports.0.protocol", "tcp")), {"kubernetes.ports[0].protocol"}),
    ("protocol SCTP", body(put("kubernetes.ports.0.protocol", "SCTP")), {"kubernetes.ports[0].protocol"}),
    ("port name uppercase", body(put("kubernetes.ports.0.name", "HTTP")), {"kubernetes.ports[0].name"}),
    (
        "second port unnamed",
        body(put("kubernetes.ports", [{"name": "a", "port": 80, "targetPort": 80}, {"port": 81, "targetPort": 81}])),
        {"kubernetes.ports[1].name"},
    ),
    (
        "duplicate port names",
        body(
            put(
                "kubernetes.ports",
                [{"name": "a", "port": 80, "targetPort": 80}, {"name": "a", "port": 81, "targetPort": 81}],
            )
        ),
        {"kubernetes.ports[1].name"},
    ),
    (
        "duplicate port numbers",
        body(
            put(
                "kubernetes.ports",
                [{"name": "a", "port": 80, "targetPort": 80}, {"name": "b", "port": 80, "targetPort": 81}],
            )
        ),
        {"kubernetes.ports[1].port"},
    ),
    (
        "bad ports reported each",
        body(
            put(
                "kubernetes.ports",
                [{"name": "a", "port": 0, "targetPort": 80}, {"name": "b", "port": 81, "targetPort": -1}, "x"],
            )
        ),
        {"kubernetes.ports[0].port", "kubernetes.ports[1].targetPort", "kubernetes.ports[2]"},
    ),
    # addresses
    ("lb ip not an ip", body(put("kubernetes.loadBalancerIP", "10.240.16")), {"kubernetes.loadBalancerIP"}),
    ("lb ip with prefix", body(put("kubernetes.loadBalancerIP", "10.240.16.25/32")), {"kubernetes.loadBalancerIP"}),
    ("lb ip leading zero", body(put("kubernetes.loadBalancerIP", "10.240.016.25")), {"kubernetes.loadBalancerIP"}),
    ("lb ip v6", body(put("kubernetes.loadBalancerIP", "fd00::5")), {"kubernetes.loadBalancerIP"}),
    ("lb ip loopback", body(put("kubernetes.loadBalancerIP", "127.0.0.1")), {"kubernetes.loadBalancerIP"}),
    ("lb ip zero", body(put("kubernetes.loadBalancerIP", "0.0.0.0")), {"kubernetes.loadBalancerIP"}),
    (
        "lb subnet GatewaySubnet",
        body(put("kubernetes.loadBalancerSubnet", "gatewaysubnet")),
        {"kubernetes.loadBalancerSubnet"},
    ),
    ("lb subnet bad name", body(put("kubernetes.loadBalancerSubnet", "ilb subnet")), {"kubernetes.loadBalancerSubnet"}),
    (
        "gateway prefix not cidr",
        body(put("gateway.gatewaySubnetPrefix", "10.240.255.0")),
        {"gateway.gatewaySubnetPrefix"},
    ),
    (
        "gateway prefix too small",
        body(put("gateway.gatewaySubnetPrefix", "10.240.255.0/30")),
        {"gateway.gatewaySubnetPrefix"},
    ),
    (
        "gateway prefix host bits",
        body(put("gateway.gatewaySubnetPrefix", "10.240.255.5/27")),
        {"gateway.gatewaySubnetPrefix"},
    ),
    ("gateway prefix v6", body(put("gateway.gatewaySubnetPrefix", "fd00::/64")), {"gateway.gatewaySubnetPrefix"}),
    (
        "gateway prefix garbage",
        body(put("gateway.gatewaySubnetPrefix", "10.240.255.0/abc")),
        {"gateway.gatewaySubnetPrefix"},
    ),
    ("pool public", body(put("gateway.clientAddressPool", "8.8.8.0/24")), {"gateway.clientAddressPool"}),
    ("pool straddles rfc1918", body(put("gateway.clientAddressPool", "172.0.0.0/8")), {"gateway.clientAddressPool"}),
    ("pool cgnat", body(put("gateway.clientAddressPool", "100.64.0.0/24")), {"gateway.clientAddressPool"}),
    (
        "pool overlaps gateway subnet",
        body(put("gateway.clientAddressPool", "10.240.255.0/26")),
        {"gateway.clientAddressPool"},
    ),
    (
        "pool covers the vnet",
        body(put("gateway.clientAddressPool", "10.240.0.0/16")),
        {"gateway.clientAddressPool", "kubernetes.loadBalancerIP"},
    ),
    ("lb ip in pool", body(put("kubernetes.loadBalancerIP", "172.16.100.9")), {"kubernetes.loadBalancerIP"}),
    ("lb ip in gateway subnet", body(put("kubernetes.loadBalancerIP", "10.240.255.4")), {"kubernetes.loadBalancerIP"}),
    ("app subnet too small", body(put("app.subnet.prefix", "10.240.254.0/29"), REGIONAL), {"app.subnet.prefix"}),
    ("app subnet GatewaySubnet", body(put("app.subnet.name", "GatewaySubnet"), REGIONAL), {"app.subnet.name"}),
    (
        "lb ip in app subnet",
        body(put("kubernetes.loadBalancerIP", "10.240.254.9"), REGIONAL),
        {"kubernetes.loadBalancerIP"},
    ),
    (
        "lb subnet is app subnet",
        body(put("kubernetes.loadBalancerSubnet", "apps"), REGIONAL),
        {"kubernetes.loadBalancerSubnet"},
    ),
    # enums, probe, dns, aks
    ("sku unknown", body(put("gateway.sku", "VpnGw6AZ")), {"gateway.sku"}),
    ("sku lowercase", body(put("gateway.sku", "vpngw1az")), {"gateway.sku"}),
    ("sku ExpressRoute", body(put("gateway.sku", "ErGw1AZ")), {"gateway.sku"}),
    ("integration unknown", body(put("integration", "peering")), {"integration"}),
    ("probe relative", body(put("probe.path", "api/privatestuff")), {"probe.path"}),
    ("probe absolute url", body(put("probe.path", "https://evil.example/")), {"probe.path"}),
    ("probe scheme-relative", body(put("probe.path", "//evil.example/x")), {"probe.path"}),
    ("probe with space", body(put("probe.path", "/api/private stuff")), {"probe.path"}),
    ("probe with fragment", body(put("probe.path", "/api#x")), {"probe.path"}),
    ("probe with backslash", body(put("probe.path", "/\\evil")), {"probe.path"}),
    ("probe too long", body(put("probe.path", "/" + "a" * 2048)), {"probe.path"}),
    ("dns zone single label", body(put("dns", {"zone": "internal", "record": "orders"})), {"dns.zone"}),
    ("dns zone trailing dot", body(put("dns", {"zone": "a.example.", "record": "orders"})), {"dns.zone"}),
    ("dns record dotted", body(put("dns", {"zone": "a.example", "record": "a.b"})), {"dns.record"}),
    ("dns record wildcard", body(put("dns", {"zone": "a.example", "record": "*"})), {"dns.record"}),
    ("aks not an id", body(put("kubernetes.aksCluster", "orders-aks")), {"kubernetes.aksCluster"}),
    (
        "aks wrong type",
        body(
            put(
                "kubernetes.aksCluster",
                f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
            )
        ),
        {"kubernetes.aksCluster"},
    ),
    (
        "aks other subscription",
        body(
            put(
                "kubernetes.aksCluster",
                f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/{AKS}/aks",
            )
        ),
        {"kubernetes.aksCluster"},
    ),
    (
        "aks bad name",
        body(
            put(
                "kubernetes.aksCluster",
                f"/subscriptions/{SUB}/resourceGroups/rg/{AKS}/-aks",
            )
        ),
        {"kubernetes.aksCluster"},
    ),
    (
        "aks trailing path",
        body(
            put(
                "kubernetes.aksCluster",
                f"/subscriptions/{SUB}/resourceGroups/rg/{AKS}/aks/agentPools/a",
            )
        ),
        {"kubernetes.aksCluster"},
    ),
    # a requirement of the path or of a multi-port Service is named whatever else is bad
    (
        "no pool and a bad name",
        body(lambda d: (d.pop("gateway"), d.update(name="X"))),
        {"name", "gateway.clientAddressPool"},
    ),
    (
        "no subnet and a bad port",
        body(lambda d: (d["app"].pop("subnet"), put("kubernetes.ports.0.port", 0)(d)), REGIONAL),
        {"app.subnet", "kubernetes.ports[0].port"},
    ),
    (
        "unnamed port beside a bad one",
        body(put("kubernetes.ports", [{"name": "a", "port": 0, "targetPort": 80}, {"port": 81, "targetPort": 81}])),
        {"kubernetes.ports[0].port", "kubernetes.ports[1].name"},
    ),
    # many at once: every one is named
    (
        "everything wrong",
        {
            "name": "X",
            "subscriptionId": 1,
            "network": {"resourceGroup": "rg.", "virtualNetwork": "v", "extra": True},
            "kubernetes": {"service": "Svc", "selector": {}, "ports": [{"port": 0, "targetPort": "--"}]},
            "gateway": {"clientAddressPool": "8.8.8.0/24", "sku": "Gold"},
            "app": {"resourceGroup": "", "name": "-"},
            "probe": {"path": "x", "expectStatus": 1000},
            "remediate": "yes",
            "integration": "both",
            "dns": [],
        },
        {
            "name",
            "subscriptionId",
            "network.resourceGroup",
            "network.virtualNetwork",
            "network.extra",
            "kubernetes.service",
            "kubernetes.selector",
            "kubernetes.ports[0].port",
            "kubernetes.ports[0].targetPort",
            "gateway.clientAddressPool",
            "gateway.sku",
            "app.resourceGroup",
            "app.name",
            "probe.path",
            "probe.expectStatus",
            "remediate",
            "integration",
            "dns",
        },
    ),
]


@pytest.mark.parametrize(("data", "expected"), [(d, e) for _, d, e in CORPUS], ids=[i for i, _, _ in CORPUS])
def test_hostile_body_names_exactly_the_bad_fields(data: object, expected: set[str]) -> None:
    assert fields(data) == expected


def test_corpus_ids_are_unique() -> None:
    ids = [i for i, _, _ in CORPUS]
    assert len(ids) == len(set(ids))


# --- messages say what to do ---------------------------------------------------------------------


def test_unknown_field_suggests_the_close_name() -> None:
    assert "did you mean subscriptionId" in errors(body(put("subscriptionID", SUB)))["subscriptionID"]
    assert "known fields: zone, record" in errors(body(put("dns", {"zone": "a.b", "record": "x", "q": 1})))["dns.q"]


def test_messages_name_the_rule() -> None:
    found = errors(
        body(
            lambda d: (
                put("gateway.gatewaySubnetPrefix", "10.240.255.5/27")(d),
                put("kubernetes.ports.0.port", 70000)(d),
                put("remediate", 1)(d),
                put("gateway.clientAddressPool", "10.240.255.0/24")(d),
            )
        )
    )
    assert (
        found["gateway.gatewaySubnetPrefix"]
        == "must be a network address with no host bits set (did you mean 10.240.255.0/27?)"
    )
    assert found["kubernetes.ports[0].port"] == "must be between 1 and 65535"
    assert found["remediate"] == (
        'must be true (fix every drift), false (report only) or "safe" (fix only what does not restart the app), '
        "got number"
    )
    assert "gateway.clientAddressPool" not in found  # no overlap is claimed against a prefix that is itself bad


def test_overlap_message_names_both_fields() -> None:
    message = errors(body(put("gateway.clientAddressPool", "10.240.255.0/26")))["gateway.clientAddressPool"]
    assert message == (
        "overlaps gateway.gatewaySubnetPrefix 10.240.255.0/27: the pool must lie outside the VNet's address space"
    )


def test_oversized_body_is_refused_before_parsing() -> None:
    message = errors(b"{" + b" " * MAX_BODY_BYTES + b"}")["body"]
    assert message == f"is {MAX_BODY_BYTES + 2} bytes; at most {MAX_BODY_BYTES} bytes are accepted"


def test_a_utf8_bom_is_tolerated() -> None:
    assert parse_link_spec(b"\xef\xbb\xbf" + json.dumps(BASE).encode()).name == "orders-api"


def test_error_str_lists_fields() -> None:
    with pytest.raises(InvalidLinkSpec) as caught:
        parse_link_spec(body(drop("name")))
    assert str(caught.value) == "name: is required"


def test_parse_returns_a_link_spec() -> None:
    assert isinstance(parse_link_spec(BASE), LinkSpec)


# --- issue 10: the app's own VNet, managed groups ---------------------------------------------------


def test_app_virtual_network_and_managed_group_opt_in_round_trip() -> None:
    body = copy.deepcopy(REGIONAL)
    body["app"]["virtualNetwork"] = {"resourceGroup": "apps-rg", "name": "apps-vnet"}
    body["allowManagedResourceGroups"] = ["MC_kube-rg_kube-aks-managed_westeurope"]
    spec = parse_link_spec(json.dumps(body))
    assert spec.app.virtual_network is not None and spec.app.virtual_network.name == "apps-vnet"
    assert spec.allow_managed_resource_groups == ("MC_kube-rg_kube-aks-managed_westeurope",)
    assert LinkSpec.from_json(spec.to_json()) == spec
    assert spec.app_subnet_id is not None and "/virtualNetworks/apps-vnet/subnets/" in spec.app_subnet_id


def test_bad_app_virtual_network_and_opt_in_are_named_by_path() -> None:
    body = copy.deepcopy(REGIONAL)
    body["app"]["virtualNetwork"] = {"subscriptionId": "nope", "name": "apps vnet", "extra": 1}
    body["allowManagedResourceGroups"] = ["ok-rg", "bad rg!", 3]
    assert fields(body) >= {
        "app.virtualNetwork.subscriptionId",
        "app.virtualNetwork.name",
        "app.virtualNetwork.resourceGroup",
        "app.virtualNetwork.extra",
        "allowManagedResourceGroups[1]",
        "allowManagedResourceGroups[2]",
    }
    body["allowManagedResourceGroups"] = [f"rg-{i}" for i in range(11)]
    assert "allowManagedResourceGroups" in fields(body)


def test_private_link_needs_its_endpoint_subnet_the_apps_vnet_and_the_aks_cluster() -> None:
    body = copy.deepcopy(REGIONAL)
    body["integration"] = "privateLink"
    body["kubernetes"].pop("aksCluster", None)
    assert fields(body) >= {"privateLink.endpointSubnet", "app.virtualNetwork", "kubernetes.aksCluster"}
    body["privateLink"] = {"endpointSubnet": {"name": "GatewaySubnet", "prefix": "10.50.5.1/27"}}
    assert fields(body) >= {"privateLink.endpointSubnet.name", "privateLink.endpointSubnet.prefix"}
    body["privateLink"] = {"endpointSubnet": {"name": "endpoints", "prefix": "10.50.5.0/30"}, "extra": True}
    assert fields(body) >= {"privateLink.endpointSubnet.prefix", "privateLink.extra"}


def test_an_app_vnet_in_another_subscription_is_one_more_scope_to_allow() -> None:
    other = "11111111-2222-3333-4444-555555555555"
    body = copy.deepcopy(REGIONAL)
    body["app"]["virtualNetwork"] = {"subscriptionId": other, "resourceGroup": "spoke-rg", "name": "spoke-vnet"}
    spec = parse_link_spec(json.dumps(body))
    assert f"/subscriptions/{other}/resourceGroups/spoke-rg" in spec.scopes
    assert spec.app_subnet_id is not None and spec.app_subnet_id.startswith(f"/subscriptions/{other}/")
