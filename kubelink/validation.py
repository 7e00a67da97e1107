"""Validation of a link spec request body (README, "The link spec"), done once at the HTTP edge.

``parse_link_spec`` checks the *whole* body and reports every bad field at once, each named by its JSON
path (``kubernetes.ports[1].port``), so a user fixes a body in one round trip. It needs no Azure: rules
that need Azure's view (the pool overlaps the VNet, the GatewaySubnet prefix lies outside it, a legacy
SKU names an existing gateway) are the pre-flight activity's job.

Name rules follow Azure's documented naming rules ("Naming rules and restrictions for Azure resources")
and Kubernetes' validation (DNS-1123/1035 labels, label keys and values, IANA service names). App setting
names follow App Service's documented rule: letters, digits, ``.`` and ``_`` only (the same rule keeps a
name usable as an environment variable on Linux, where the app reads it).
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from kubelink.errors import FieldError, InvalidLinkSpec
from kubelink.spec import GATEWAY_SUBNET, LinkSpec

MAX_BODY_BYTES = 64 * 1024
MAX_PORTS = 20
MAX_SELECTOR_LABELS = 32  # keeps a stored spec well inside one Table property (32K characters)
MAX_PROBE_PATH = 2048
GATEWAY_SKUS = ("Basic", "VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ")
LEGACY_GATEWAY_SKUS = ("VpnGw1", "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5")
INTEGRATIONS = ("gateway", "regional")
PROTOCOLS = ("TCP", "UDP")
_MAX_INT_DIGITS = 40  # longer JSON integers are reported as out of range, never converted

_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

# A rule checks one string and returns what is wrong with it, or None.
Rule = Callable[[str], "str | None"]


def _pattern(regex: str, min_len: int, max_len: int, what: str) -> Rule:
    compiled = re.compile(regex)

    def check(value: str) -> str | None:
        if min_len <= len(value) <= max_len and compiled.fullmatch(value):
            return None
        size = f"{min_len}-{max_len}" if min_len != max_len else str(min_len)
        return f"must be {size} characters: {what}"

    return check


_link_name = _pattern(
    r"[a-z][a-z0-9-]*[a-z0-9]", 3, 40, "lowercase letters, digits and '-', starting with a letter, not ending with '-'"
)
_guid = _pattern(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    36,
    36,
    "a GUID such as 00000000-0000-0000-0000-000000000000",
)
# ARM allows Unicode letters and digits in resource group names (Char.IsLetterOrDigit), hence \w here.
_resource_group = _pattern(
    r"[\w\-.()]*[\w\-()]", 1, 90, "letters, digits, '_', '-', '.', '(' and ')', not ending with '.'"
)
_vnet_name = _pattern(
    r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]",
    2,
    64,
    "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'",
)
_network_child_name = _pattern(
    r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?",
    1,
    80,
    "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'",
)
_site_name = _pattern(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", 2, 60, "letters, digits and '-', not starting or ending with '-'"
)
_aks_name = _pattern(
    r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?",
    1,
    63,
    "letters, digits, '_' and '-', starting and ending with a letter or digit",
)
_app_setting_name = _pattern(r"[A-Za-z0-9_.]+", 1, 512, "letters, digits, '_' and '.' (App Service app setting names)")
_dns1123_label = _pattern(
    r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?",
    1,
    63,
    "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
)
_dns1035_label = _pattern(
    r"[a-z](?:[-a-z0-9]*[a-z0-9])?",
    1,
    63,
    "a DNS-1035 label: lowercase letters, digits and '-', starting with a letter, ending with a letter or digit",
)
_dns_label = _pattern(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?",
    1,
    63,
    "a DNS label: letters, digits and '-', not starting or ending with '-'",
)
_QUALIFIED_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_IANA_SVC_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_PROBE_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")
_AKS_ID = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.ContainerService/managedClusters/(?P<name>[^/]+)",
    re.IGNORECASE,
)


def _label_key(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if "/" in key and not (prefix and len(prefix) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return "label key prefix must be a DNS-1123 subdomain of at most 253 characters"
    if not (len(name) <= 63 and _QUALIFIED_NAME.fullmatch(name)):
        return (
            "label key name must be 1-63 characters: letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return None


def _label_value(value: str) -> str | None:
    if value == "" or (len(value) <= 63 and _QUALIFIED_NAME.fullmatch(value)):
        return None
    return (
        "label value must be at most 63 characters: letters, digits, '-', '_' and '.', "
        "starting and ending with a letter or digit"
    )


def _iana_svc_name(value: str) -> str | None:
    if len(value) <= 15 and _IANA_SVC_NAME.fullmatch(value) and "--" not in value and re.search("[a-z]", value):
        return None
    return (
        "must be a port number or an IANA service name: 1-15 lowercase letters, digits and '-', "
        "with at least one letter, no '--', not starting or ending with '-'"
    )


def _dns_zone(value: str) -> str | None:
    labels = value.split(".")
    if len(value) <= 253 and 2 <= len(labels) <= 34 and all(_dns_label(label) is None for label in labels):
        return None
    return "must be a DNS zone name of 2-34 labels (letters, digits and '-'), at most 253 characters, no trailing '.'"


def _dns_record(value: str) -> str | None:
    if value == "@" or _dns_label(value) is None:
        return None
    return "must be '@' (the zone apex) or a DNS label: 1-63 letters, digits and '-', not starting or ending with '-'"


def _probe_path(value: str) -> str | None:
    if len(value) <= MAX_PROBE_PATH and _PROBE_PATH.fullmatch(value) and not value.startswith("//"):
        return None
    return (
        f"must be a URL path of at most {MAX_PROBE_PATH} characters starting with a single '/' "
        "(optionally with a query), without spaces, '#' or '\\'"
    )


def _not_gateway_subnet(rule: Rule) -> Rule:
    def check(value: str) -> str | None:
        if value.lower() == GATEWAY_SUBNET.lower():
            return f"must not be {GATEWAY_SUBNET}: that subnet is reserved for the VPN gateway"
        return rule(value)

    return check


def _one_of(choices: tuple[str, ...]) -> Rule:
    def check(value: str) -> str | None:
        return None if value in choices else "must be one of " + ", ".join(choices)

    return check


def _ipv4_network(value: str) -> ipaddress.IPv4Network | str:
    """The network, or what is wrong with the text (host bits set, IPv6, not a CIDR)."""
    if "/" not in value:
        return "must be an IPv4 CIDR such as 10.0.0.0/27"
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "must be an IPv4 CIDR such as 10.0.0.0/27"
    if not isinstance(network, ipaddress.IPv4Network):
        return "must be an IPv4 CIDR (IPv6 is not supported)"
    if str(network) != value:
        return f"must be a network address with no host bits set (did you mean {network}?)"
    return network


# --- body decoding -----------------------------------------------------------------------------


class _Object(dict[str, Any]):
    """A JSON object that remembers keys given more than once (``json`` silently keeps the last)."""

    duplicates: tuple[str, ...] = ()


class _OutOfRange:
    """A JSON integer too long to convert; reported as out of range wherever it appears."""


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        obj.duplicates = tuple(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
    return obj


def _parse_int(text: str) -> int | _OutOfRange:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else _OutOfRange()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(body: bytes | str | object) -> object:
    """Parse the raw body; any failure is one detail on the field ``body``."""
    if isinstance(body, bytearray | memoryview):
        body = bytes(body)
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if not isinstance(body, bytes):
        return body
    if len(body) > MAX_BODY_BYTES:
        raise _body_error(f"is {len(body)} bytes; at most {MAX_BODY_BYTES} bytes are accepted")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _body_error("must be UTF-8 encoded JSON") from None
    if not text.strip():
        raise _body_error("is empty; send a link spec as a JSON object")
    try:
        return json.loads(text, object_pairs_hook=_object_pairs, parse_int=_parse_int, parse_constant=_reject_constant)
    except RecursionError:
        raise _body_error("is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise _body_error(f"is not valid JSON: {exc}") from None


def _body_error(message: str) -> InvalidLinkSpec:
    return InvalidLinkSpec(details=[FieldError("body", message)])


# --- the walk ------------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _child(path: str, key: str) -> str:
    """JSON path of ``key`` under ``path``; odd keys (dots, slashes, unicode) are quoted in brackets."""
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | _OutOfRange):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


class _Checker:
    """Collects every problem of one body; each ``take_*`` returns the value only when it is good."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def take_object(self, value: object, path: str, fields: tuple[str, ...]) -> Mapping[str, Any] | None:
        """An object with only ``fields``; unknown and duplicated keys are reported, the rest still checked."""
        if not isinstance(value, Mapping):
            self.fail(path or "body", f"must be an object, got {_type_name(value)}")
            return None
        for key in getattr(value, "duplicates", ()):
            self.fail(_child(path, key), "is given more than once")
        for key in value:
            if key not in fields:
                close = difflib.get_close_matches(str(key), fields, n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; known fields: {', '.join(fields)}"
                self.fail(_child(path, str(key)), "is not a known field" + hint)
        return value

    def take_string(
        self,
        obj: Mapping[str, Any] | None,
        key: str,
        path: str,
        rule: Rule,
        *,
        required: bool = False,
        missing: str = "is required",
    ) -> str | None:
        value = self.present(obj, key, path, required, missing)
        if value is None:
            return None
        field = _child(path, key)
        if not isinstance(value, str):
            self.fail(field, f"must be a string, got {_type_name(value)}")
            return None
        problem = rule(value)
        if problem:
            self.fail(field, problem)
            return None
        return value

    def take_int(
        self, obj: Mapping[str, Any] | None, key: str, path: str, low: int, high: int, *, required: bool = False
    ) -> int | None:
        value = self.present(obj, key, path, required)
        if value is None:
            return None
        return self.check_int(value, _child(path, key), low, high)

    def check_int(self, value: object, field: str, low: int, high: int) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        if isinstance(value, int | _OutOfRange) and not isinstance(value, bool):
            self.fail(field, f"must be between {low} and {high}")
        else:
            self.fail(field, f"must be an integer, got {_type_name(value)}")
        return None

    def take_bool(self, obj: Mapping[str, Any] | None, key: str, path: str) -> bool | None:
        value = self.present(obj, key, path, required=False)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(_child(path, key), f"must be true or false, got {_type_name(value)}")
            return None
        return value

    def present(
        self, obj: Mapping[str, Any] | None, key: str, path: str, required: bool, missing: str = "is required"
    ) -> object:
        """The raw value, or None when absent (reported if required). An explicit null is a type error."""
        if obj is None:
            return None
        if key not in obj:
            if required:
                self.fail(_child(path, key), missing)
            return None
        value = obj[key]
        if value is None:
            self.fail(_child(path, key), "must not be null" + ("" if required else "; leave the field out instead"))
        return value


# --- the spec --------------------------------------------------------------------------------


def parse_link_spec(body: bytes | str | object) -> LinkSpec:
    """Validate a link spec body (raw JSON bytes/text, or an already-parsed object) into a ``LinkSpec``.

    Raises ``InvalidLinkSpec`` naming every bad field by its JSON path.
    """
    data = _decode(body)
    checker = _Checker()
    normalised = _link(checker, data)
    if checker.errors:
        raise InvalidLinkSpec(details=checker.errors)
    return LinkSpec.from_json(normalised)


def is_link_name(value: str) -> bool:
    """Whether ``value`` can name a link (for route parameters, before any storage lookup)."""
    return _link_name(value) is None


_ROOT_FIELDS = (
    "name",
    "subscriptionId",
    "network",
    "kubernetes",
    "gateway",
    "app",
    "probe",
    "remediate",
    "integration",
    "dns",
)


def _link(c: _Checker, data: object) -> dict[str, Any]:
    root = c.take_object(data, "", _ROOT_FIELDS)
    out: dict[str, Any] = {}
    if root is None:
        return out
    out["name"] = c.take_string(root, "name", "", _link_name, required=True)
    subscription = c.take_string(root, "subscriptionId", "", _guid, required=True)
    out["subscriptionId"] = subscription
    integration = c.take_string(root, "integration", "", _one_of(INTEGRATIONS)) or "gateway"
    out["integration"] = integration
    if (remediate := c.take_bool(root, "remediate", "")) is not None:
        out["remediate"] = remediate
    out["network"] = _network(c, root)
    out["kubernetes"] = _kubernetes(c, root, subscription)
    out["gateway"] = _gateway(c, root, required_pool=integration == "gateway")
    out["app"] = _app(c, root, required_subnet=integration == "regional")
    if "probe" in root:
        out["probe"] = _probe(c, root)
    if "dns" in root:
        out["dns"] = _dns(c, root)
    _check_address_plan(c, out, integration)
    return _drop_none(out)


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: _drop_none(v) if isinstance(v, dict) else v for k, v in body.items() if v is not None}


def _section(c: _Checker, root: Mapping[str, Any], key: str, fields: tuple[str, ...], *, required: bool) -> Any:
    value = c.present(root, key, "", required)
    return None if value is None else c.take_object(value, key, fields)


def _network(c: _Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    net = _section(c, root, "network", ("resourceGroup", "virtualNetwork"), required=True)
    return {
        "resourceGroup": c.take_string(net, "resourceGroup", "network", _resource_group, required=True),
        "virtualNetwork": c.take_string(net, "virtualNetwork", "network", _vnet_name, required=True),
    }


_KUBERNETES_FIELDS = (
    "kubeconfigSetting",
    "namespace",
    "service",
    "selector",
    "ports",
    "loadBalancerSubnet",
    "loadBalancerIP",
    "aksCluster",
)


def _kubernetes(c: _Checker, root: Mapping[str, Any], subscription: str | None) -> dict[str, Any]:
    kube = _section(c, root, "kubernetes", _KUBERNETES_FIELDS, required=True)
    path = "kubernetes"
    return {
        "kubeconfigSetting": c.take_string(kube, "kubeconfigSetting", path, _app_setting_name),
        "namespace": c.take_string(kube, "namespace", path, _dns1123_label),
        "service": c.take_string(kube, "service", path, _dns1035_label, required=True),
        "selector": _selector(c, kube),
        "ports": _ports(c, kube),
        "loadBalancerSubnet": c.take_string(kube, "loadBalancerSubnet", path, _not_gateway_subnet(_network_child_name)),
        "loadBalancerIP": c.take_string(kube, "loadBalancerIP", path, _load_balancer_ip),
        "aksCluster": c.take_string(kube, "aksCluster", path, _aks_cluster(subscription)),
    }


def _load_balancer_ip(value: str) -> str | None:
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        return "must be an IPv4 address such as 10.240.0.25"
    if address.is_unspecified or address.is_loopback or address.is_multicast or address.is_link_local:
        return "must be a unicast address inside the VNet (not 0.0.0.0, loopback, link-local or multicast)"
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return "must be a unicast address inside the VNet, not the broadcast address"
    return None


def _aks_cluster(subscription: str | None) -> Rule:
    def check(value: str) -> str | None:
        match = _AKS_ID.fullmatch(value)
        shape = "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
        if not match:
            return f"must be the ARM id of an AKS cluster: {shape}"
        if _guid(match["sub"]) or _resource_group(match["rg"]) or _aks_name(match["name"]):
            return f"must be the ARM id of an AKS cluster ({shape}) with a valid subscription, group and name"
        if subscription and match["sub"].lower() != subscription.lower():
            return "must be in the link's subscription (subscriptionId)"
        return None

    return check


def _selector(c: _Checker, kube: Mapping[str, Any] | None) -> dict[str, str] | None:
    path = _child("kubernetes", "selector")
    value = c.present(kube, "selector", "kubernetes", required=True)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        c.fail(path, f"must be an object of label names to values, got {_type_name(value)}")
        return None
    if not value:
        c.fail(path, "must have at least one label: an empty selector would match every pod")
        return None
    if len(value) > MAX_SELECTOR_LABELS:
        c.fail(path, f"must have at most {MAX_SELECTOR_LABELS} labels")
        return None
    for key in getattr(value, "duplicates", ()):
        c.fail(_child(path, key), "is given more than once")
    good = True
    for key, label in value.items():
        field = _child(path, key)
        problem = _label_key(key)
        if not isinstance(label, str):
            problem = f"must be a string, got {_type_name(label)}"
        elif not problem:
            problem = _label_value(label)
        if problem:
            c.fail(field, problem)
            good = False
    return dict(value) if good else None


_PORT_FIELDS = ("name", "port", "targetPort", "protocol")


def _ports(c: _Checker, kube: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    path = _child("kubernetes", "ports")
    value = c.present(kube, "ports", "kubernetes", required=True)
    if value is None:
        return None
    if not isinstance(value, list):
        c.fail(path, f"must be an array of ports, got {_type_name(value)}")
        return None
    if not 1 <= len(value) <= MAX_PORTS:
        c.fail(path, f"must have 1-{MAX_PORTS} ports, got {len(value)}")
        return None
    ports: list[dict[str, Any] | None] = [_port(c, item, f"{path}[{i}]", len(value)) for i, item in enumerate(value)]
    names: dict[str, int] = {}
    numbers: dict[tuple[int, str], int] = {}
    for i, port in enumerate(ports):
        if port is None:
            continue
        if (name := port.get("name")) is not None:
            if name in names:
                c.fail(f"{path}[{i}].name", f"duplicates the name of {path}[{names[name]}]")
            names.setdefault(name, i)
        key = (port["port"], port.get("protocol", "TCP"))
        if key in numbers:
            c.fail(f"{path}[{i}].port", f"duplicates port {key[0]}/{key[1]} of {path}[{numbers[key]}]")
        numbers.setdefault(key, i)
    return None if any(p is None for p in ports) else [p for p in ports if p is not None]


def _port(c: _Checker, item: object, path: str, count: int) -> dict[str, Any] | None:
    obj = c.take_object(item, path, _PORT_FIELDS)
    if obj is None:
        return None
    before = len(c.errors)
    # Kubernetes requires every port of a multi-port Service to be named.
    name = c.take_string(
        obj, "name", path, _dns1123_label, required=count > 1, missing="is required when the Service has several ports"
    )
    port = c.take_int(obj, "port", path, 1, 65535, required=True)
    target = _target_port(c, obj, path)
    protocol = c.take_string(obj, "protocol", path, _one_of(PROTOCOLS))
    if len(c.errors) > before:
        return None
    return _drop_none({"name": name, "port": port, "targetPort": target, "protocol": protocol})


def _target_port(c: _Checker, obj: Mapping[str, Any], path: str) -> int | str | None:
    value = c.present(obj, "targetPort", path, required=True)
    field = f"{path}.targetPort"
    if value is None:
        return None
    if isinstance(value, str):
        problem = _iana_svc_name(value)
        if problem:
            c.fail(field, problem)
            return None
        return value
    if isinstance(value, int | _OutOfRange) and not isinstance(value, bool):
        return c.check_int(value, field, 1, 65535)
    c.fail(field, f"must be a port number (1-65535) or a named container port, got {_type_name(value)}")
    return None


_GATEWAY_FIELDS = ("name", "sku", "gatewaySubnetPrefix", "publicIpName", "clientAddressPool")


def _gateway(c: _Checker, root: Mapping[str, Any], *, required_pool: bool) -> dict[str, Any]:
    gateway = _section(c, root, "gateway", _GATEWAY_FIELDS, required=False)
    path = "gateway"
    if gateway is None and required_pool and "gateway" not in root:
        c.fail("gateway.clientAddressPool", "is required when integration is 'gateway'")
    out = {
        "name": c.take_string(gateway, "name", path, _network_child_name),
        "sku": c.take_string(gateway, "sku", path, _gateway_sku),
        "gatewaySubnetPrefix": c.take_string(gateway, "gatewaySubnetPrefix", path, _gateway_subnet_prefix),
        "publicIpName": c.take_string(gateway, "publicIpName", path, _network_child_name),
        "clientAddressPool": c.take_string(
            gateway,
            "clientAddressPool",
            path,
            _client_address_pool,
            required=required_pool,
            missing="is required when integration is 'gateway'",
        ),
    }
    name = out["name"]
    if name and "publicIpName" not in (gateway or {}) and _network_child_name(f"{name}-pip"):
        c.fail("gateway.name", f"is too long to derive the default gateway.publicIpName '{name}-pip'; set it")
    return out


def _gateway_sku(value: str) -> str | None:
    if value in GATEWAY_SKUS or value in LEGACY_GATEWAY_SKUS:
        return None
    return (
        f"must be one of {', '.join(GATEWAY_SKUS)} "
        f"(legacy {', '.join(LEGACY_GATEWAY_SKUS)} only for an existing gateway)"
    )


def _gateway_subnet_prefix(value: str) -> str | None:
    network = _ipv4_network(value)
    if isinstance(network, str):
        return network
    if network.prefixlen > 29:
        return "must be /29 or larger (/27 recommended)"
    return None


def _client_address_pool(value: str) -> str | None:
    network = _ipv4_network(value)
    if isinstance(network, str):
        return network
    if not any(network.subnet_of(block) for block in _RFC1918):
        return "must be a private (RFC 1918) range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
    return None


def _app(c: _Checker, root: Mapping[str, Any], *, required_subnet: bool) -> dict[str, Any]:
    app = _section(c, root, "app", ("resourceGroup", "name", "setting", "subnet"), required=True)
    path = "app"
    out: dict[str, Any] = {
        "resourceGroup": c.take_string(app, "resourceGroup", path, _resource_group, required=True),
        "name": c.take_string(app, "name", path, _site_name, required=True),
        "setting": c.take_string(app, "setting", path, _app_setting_name),
    }
    subnet_value = c.present(app, "subnet", path, required_subnet, "is required when integration is 'regional'")
    if subnet_value is not None:
        subnet = c.take_object(subnet_value, "app.subnet", ("name", "prefix"))
        out["subnet"] = {
            "name": c.take_string(
                subnet, "name", "app.subnet", _not_gateway_subnet(_network_child_name), required=True
            ),
            "prefix": c.take_string(subnet, "prefix", "app.subnet", _app_subnet_prefix, required=True),
        }
    return out


def _app_subnet_prefix(value: str) -> str | None:
    network = _ipv4_network(value)
    if isinstance(network, str):
        return network
    if network.prefixlen > 28:
        return "must be /28 or larger (/26 recommended): App Service needs one address per instance"
    return None


def _probe(c: _Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    probe = _section(c, root, "probe", ("path", "expectStatus"), required=False)
    return {
        "path": c.take_string(probe, "path", "probe", _probe_path, required=True),
        "expectStatus": c.take_int(probe, "expectStatus", "probe", 100, 599),
    }


def _dns(c: _Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    dns = _section(c, root, "dns", ("zone", "record"), required=False)
    return {
        "zone": c.take_string(dns, "zone", "dns", _dns_zone, required=True),
        "record": c.take_string(dns, "record", "dns", _dns_record, required=True),
    }


def _check_address_plan(c: _Checker, spec: dict[str, Any], integration: str) -> None:
    """Conflicts between the addresses of one body, checked only among fields that are valid themselves."""
    kube, gateway, app = spec.get("kubernetes", {}), spec.get("gateway", {}), spec.get("app", {})
    ip = kube.get("loadBalancerIP") and ipaddress.IPv4Address(kube["loadBalancerIP"])
    subnet = app.get("subnet") or {}
    if integration == "gateway":
        pool = gateway.get("clientAddressPool") and ipaddress.IPv4Network(gateway["clientAddressPool"])
        prefix = gateway.get("gatewaySubnetPrefix") and ipaddress.IPv4Network(gateway["gatewaySubnetPrefix"])
        if pool and prefix and pool.overlaps(prefix):
            c.fail(
                "gateway.clientAddressPool",
                f"overlaps gateway.gatewaySubnetPrefix {prefix}: the pool must lie outside the VNet's address space",
            )
        if ip and pool and ip in pool:
            c.fail("kubernetes.loadBalancerIP", f"lies in gateway.clientAddressPool {pool}, not in the VNet")
        if ip and prefix and ip in prefix:
            c.fail(
                "kubernetes.loadBalancerIP",
                f"lies in gateway.gatewaySubnetPrefix {prefix}: the GatewaySubnet can't host a load balancer",
            )
    else:
        app_prefix = subnet.get("prefix") and ipaddress.IPv4Network(subnet["prefix"])
        if ip and app_prefix and ip in app_prefix:
            c.fail(
                "kubernetes.loadBalancerIP",
                f"lies in app.subnet.prefix {app_prefix}: the app's delegated subnet can't host a load balancer",
            )
        lb_subnet, app_subnet = kube.get("loadBalancerSubnet"), subnet.get("name")
        if lb_subnet and app_subnet and lb_subnet.lower() == app_subnet.lower():
            c.fail(
                "kubernetes.loadBalancerSubnet",
                "must not be app.subnet.name: the app's delegated subnet can't host a load balancer",
            )
