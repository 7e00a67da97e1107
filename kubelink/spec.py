"""The link spec (README, "The link spec"), declared once on pydantic v2: the rules that validate a request body,
the typed, immutable ``LinkSpec`` the code uses, and the JSON Schema behind ``GET /api/openapi.json`` and the
README's field table.

A field is one line: its type (a rule below), its default, its description. A rule raises kubelink's own
message (``problem``); ``kubelink.validation`` names each error by its JSON path. Beyond pydantic's own checks,
every section reports unknown keys (with the closest known name), keys given twice and explicit ``null``s, and
keeps checking its other fields, so a body's every bad field is named at once. Rules between fields run once
those fields are valid: a conflict is never claimed against a bad value.

Name rules follow Azure's documented naming rules ("Naming rules and restrictions for Azure resources") and
Kubernetes' validation (DNS-1123/1035 labels, label keys and values, IANA service names). App setting names
follow App Service's documented rule: letters, digits, ``.`` and ``_`` only (the same rule keeps a name usable
as an environment variable on Linux, where the app reads it). Rules that need Azure's view (the pool overlaps
the VNet, a legacy SKU names an existing gateway) are the pre-flight activity's.

Importing this module loads pydantic: modules that only annotate with ``LinkSpec`` import it under
``TYPE_CHECKING``, so ``function_app`` stays quick to import (``benchmarks/cold_start.py``).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, WithJsonSchema
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema

from kubelink import names
from kubelink.names import GATEWAY_SUBNET, LINK_NAME, TextRule

MAX_PORTS = 20
MAX_SELECTOR_LABELS = 32  # keeps a stored spec well inside one Table property (32K characters)
MAX_PROBE_PATH = 2048
SPEC_ERROR = "link_spec"  # the pydantic error type of every kubelink rule
RULE_NOTE = "x-rule"  # a rule in words, added to its field's description (``Section``)

Loc = tuple[str | int, ...]


class OutOfRange:
    """A JSON integer too long to convert (``kubelink.validation`` never converts one); out of range anywhere."""


def problem(message: str) -> PydanticCustomError:
    return PydanticCustomError(SPEC_ERROR, "{message}", {"message": message})


def fail(problems: Mapping[Loc, str], errors: list[InitErrorDetails] | None = None) -> ValidationError:
    """Several errors at once, at locations relative to the validator raising it (pydantic prefixes them)."""
    ours: list[InitErrorDetails] = [{"type": problem(m), "loc": loc, "input": None} for loc, m in problems.items()]
    return ValidationError.from_exception_data("LinkSpec", [*(errors or []), *ours])


# --- rules ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # hashed by identity: Annotated metadata must be hashable
class Rule:
    """A field's rule as pydantic metadata (``Annotated[str, Rule(...)]``): pydantic's strict check of the base
    type, then ``check`` (kubelink's message, or None), and the field's JSON Schema. ``plain`` rules skip the base
    type and judge the raw value themselves; ``out_of_range`` is the message for a JSON integer too long to read."""

    check: Callable[[Any], str | None]
    schema: dict[str, Any]
    plain: bool = False
    out_of_range: str | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        if self.plain:
            return core_schema.no_info_plain_validator_function(self._plain)
        return core_schema.no_info_wrap_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return dict(self.schema)

    def _plain(self, value: Any) -> Any:
        if message := self.check(value):
            raise problem(message)
        return value

    def _validate(self, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if self.out_of_range and isinstance(value, OutOfRange):
            raise problem(self.out_of_range)
        return self._plain(handler(value))


def _text(rule: TextRule, check: Callable[[str], str | None] | None = None) -> Rule:
    schema = {"type": "string", "pattern": f"^(?:{rule.pattern})$", "minLength": rule.min_length}
    schema |= {"maxLength": rule.max_length, RULE_NOTE: rule.summary + "."}
    return Rule(lambda v: rule.problem(v) or (check(v) if check else None), schema)


def _one_of(choices: tuple[str, ...], message: str = "") -> Rule:
    return Rule(
        lambda v: None if isinstance(v, str) and v in choices else message or "must be one of " + ", ".join(choices),
        {"type": "string", "enum": list(choices)},
        plain=True,
    )


def _between(low: int, high: int) -> Rule:
    message = f"must be between {low} and {high}"
    return Rule(
        lambda v: None if low <= v <= high else message,
        {"type": "integer", "minimum": low, "maximum": high},
        out_of_range=message,
    )


def _cidr(largest: int, why: str = "", check: Callable[[ipaddress.IPv4Network], str | None] | None = None) -> Rule:
    """An IPv4 network with no host bits set, of prefix length ``largest`` or shorter."""

    def problem_of(value: str) -> str | None:
        network = _ipv4_network(value)
        if isinstance(network, str):
            return network
        if network.prefixlen > largest:
            return f"must be /{largest} or larger {why}"
        return check(network) if check else None

    return Rule(problem_of, {"type": "string", "pattern": f"^{_IPV4}/(?:[0-9]|[12][0-9]|3[0-2])$"})


def _ipv4_network(value: str) -> ipaddress.IPv4Network | str:
    """The network, or what is wrong with the text (host bits set, IPv6, not a CIDR)."""
    try:
        network = ipaddress.ip_network(value, strict=False) if "/" in value else None
    except ValueError:
        network = None
    if network is None:
        return "must be an IPv4 CIDR such as 10.0.0.0/27"
    if not isinstance(network, ipaddress.IPv4Network):
        return "must be an IPv4 CIDR (IPv6 is not supported)"
    if str(network) != value:
        return f"must be a network address with no host bits set (did you mean {network}?)"
    return network


def _private_pool(network: ipaddress.IPv4Network) -> str | None:
    if any(network.subnet_of(block) for block in _RFC1918):
        return None
    return "must be a private (RFC 1918) range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"


def _not_gateway_subnet(value: str) -> str | None:
    if value.lower() == GATEWAY_SUBNET.lower():
        return f"must not be {GATEWAY_SUBNET}: that subnet is reserved for the VPN gateway"
    return None


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


def _aks_cluster(value: str) -> str | None:
    match = _AKS_ID.fullmatch(value)
    if not match:
        return f"must be the ARM id of an AKS cluster: {_AKS_SHAPE}"
    if _GUID.problem(match["sub"]) or _RESOURCE_GROUP.problem(match["rg"]) or _AKS_NAME.problem(match["name"]):
        return f"must be the ARM id of an AKS cluster ({_AKS_SHAPE}) with a valid subscription, group and name"
    return None


def _dns_zone(value: str) -> str | None:
    labels = value.split(".")
    if len(value) <= 253 and 2 <= len(labels) <= 34 and not any(_DNS_LABEL.problem(label) for label in labels):
        return None
    return "must be a DNS zone name of 2-34 labels (letters, digits and '-'), at most 253 characters, no trailing '.'"


def _dns_record(value: str) -> str | None:
    if value == "@" or _DNS_LABEL.problem(value) is None:
        return None
    return "must be '@' (the zone apex) or a DNS label: 1-63 letters, digits and '-', not starting or ending with '-'"


def _probe_path(value: str) -> str | None:
    if len(value) <= MAX_PROBE_PATH and re.fullmatch(_PROBE_PATH, value) and not value.startswith("//"):
        return None
    return (
        f"must be a URL path of at most {MAX_PROBE_PATH} characters starting with a single '/' "
        "(optionally with a query), without spaces, '#' or '\\'"
    )


def _target_port(value: Any) -> str | None:
    """A port number or a named container port: one rule with one message (a union would give one per member)."""
    if isinstance(value, str):
        if len(value) <= 15 and re.fullmatch(_IANA_SVC, value) and "--" not in value and re.search("[a-z]", value):
            return None
        return (
            "must be a port number or an IANA service name: 1-15 lowercase letters, digits and '-', "
            "with at least one letter, no '--', not starting or ending with '-'"
        )
    if isinstance(value, int | OutOfRange) and not isinstance(value, bool):
        return None if isinstance(value, int) and 1 <= value <= 65535 else "must be between 1 and 65535"
    return f"must be a port number (1-65535) or a named container port, got {json_type(value)}"


def _label_key(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if "/" in key and not (prefix and len(prefix) <= 253 and re.fullmatch(_DNS1123_SUBDOMAIN, prefix)):
        return "label key prefix must be a DNS-1123 subdomain of at most 253 characters"
    if not (len(name) <= 63 and re.fullmatch(_QUALIFIED_NAME, name)):
        return (
            "label key name must be 1-63 characters: letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return None


def _label_value(value: str) -> str | None:
    if value == "" or (len(value) <= 63 and re.fullmatch(_QUALIFIED_NAME, value)):
        return None
    return (
        "label value must be at most 63 characters: letters, digits, '-', '_' and '.', "
        "starting and ending with a letter or digit"
    )


def _selector(data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Every bad label key and value is named; the selector as a whole must have 1-32 labels."""
    if not isinstance(data, Mapping):
        raise problem(f"must be an object of label names to values, got {json_type(data)}")
    if not data:
        raise problem("must have at least one label: an empty selector would match every pod")
    if len(data) > MAX_SELECTOR_LABELS:
        raise problem(f"must have at most {MAX_SELECTOR_LABELS} labels")
    problems: dict[Loc, str] = {(key,): "is given more than once" for key in getattr(data, "duplicates", ())}
    problems |= {(key,): message for key in data if (message := _label_key(key))}
    return validate_reporting(handler, data, problems)


_GUID = TextRule(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    36,
    36,
    "a GUID such as 00000000-0000-0000-0000-000000000000",
)
_RESOURCE_GROUP = TextRule(  # ARM allows Unicode letters and digits (Char.IsLetterOrDigit), hence \w
    r"[-\w.()]*[-\w()]", 1, 90, "letters, digits, '_', '-', '.', '(' and ')', not ending with '.'"
)
_VNET = TextRule(
    r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]",
    2,
    64,
    "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'",
)
_NETWORK_CHILD = TextRule(
    r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?",
    1,
    80,
    "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'",
)
_SITE = TextRule(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", 2, 60, "letters, digits and '-', not starting or ending with '-'"
)
_AKS_NAME = TextRule(
    r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?",
    1,
    63,
    "letters, digits, '_' and '-', starting and ending with a letter or digit",
)
_APP_SETTING = TextRule(r"[A-Za-z0-9_.]+", 1, 512, "letters, digits, '_' and '.' (App Service app setting names)")
_DNS1123_LABEL = TextRule(
    r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?",
    1,
    63,
    "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
)
_DNS1035_LABEL = TextRule(
    r"[a-z](?:[-a-z0-9]*[a-z0-9])?",
    1,
    63,
    "a DNS-1035 label: lowercase letters, digits and '-', starting with a letter, ending with a letter or digit",
)
_DNS_LABEL = TextRule(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?",
    1,
    63,
    "a DNS label: letters, digits and '-', not starting or ending with '-'",
)
_QUALIFIED_NAME = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_DNS1123_SUBDOMAIN = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"
_IANA_SVC = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PROBE_PATH = r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*"
_IPV4 = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_AKS_ID = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.ContainerService/managedClusters/(?P<name>[^/]+)",
    re.IGNORECASE,
)
_AKS_SHAPE = "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
_LABEL_VALUE_SCHEMA = {"type": "string", "pattern": f"^(?:{_QUALIFIED_NAME})?$", "maxLength": 63}

LinkName = Annotated[str, _text(LINK_NAME)]
Guid = Annotated[str, _text(_GUID)]
ResourceGroup = Annotated[str, _text(_RESOURCE_GROUP)]
VnetName = Annotated[str, _text(_VNET)]
NetworkChildName = Annotated[str, _text(_NETWORK_CHILD)]
SubnetName = Annotated[str, _text(_NETWORK_CHILD, _not_gateway_subnet)]
SiteName = Annotated[str, _text(_SITE)]
AppSettingName = Annotated[str, _text(_APP_SETTING)]
Dns1123Label = Annotated[str, _text(_DNS1123_LABEL)]
Dns1035Label = Annotated[str, _text(_DNS1035_LABEL)]
# ARM ids are case-insensitive: the schema only says "an ARM id of eight segments"
AksClusterId = Annotated[str, Rule(_aks_cluster, {"type": "string", "pattern": r"^(?:/[^/]+){8}$"})]
LoadBalancerIp = Annotated[str, Rule(_load_balancer_ip, {"type": "string", "pattern": f"^{_IPV4}$"})]
GatewaySku = Annotated[
    str,
    _one_of(
        names.GATEWAY_SKUS + names.LEGACY_GATEWAY_SKUS,
        f"must be one of {', '.join(names.GATEWAY_SKUS)} "
        f"(legacy {', '.join(names.LEGACY_GATEWAY_SKUS)} only for an existing gateway)",
    ),
]
Protocol = Annotated[names.Protocol, _one_of(names.PROTOCOLS)]
IntegrationName = Annotated[names.Integration, _one_of(names.INTEGRATIONS)]
#: ``remediate``: true (fix every drift), false (report only) or "safe" (fix only what does not restart the app)
Remediation = Annotated[
    bool | str,
    Rule(
        lambda v: (
            None
            if isinstance(v, bool) or v == names.SAFE_REMEDIATION
            else f'must be true (fix every drift), false (report only) or "{names.SAFE_REMEDIATION}" (fix only what '
            f"does not restart the app), got {v!r}"
            if isinstance(v, str)
            else f'must be true (fix every drift), false (report only) or "{names.SAFE_REMEDIATION}" (fix only what '
            f"does not restart the app), got {json_type(v)}"
        ),
        {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": [names.SAFE_REMEDIATION]}]},
        plain=True,
    ),
]
Port = Annotated[int, _between(1, 65535)]
HttpStatus = Annotated[int, _between(100, 599)]
TargetPort = Annotated[
    int | str,
    Rule(
        _target_port,
        {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": 65535},
                {"type": "string", "pattern": f"^{_IANA_SVC}$", "maxLength": 15},
            ]
        },
        plain=True,
    ),
]
LabelValue = Annotated[str, Rule(_label_value, _LABEL_VALUE_SCHEMA)]
Selector = Annotated[
    dict[str, LabelValue],
    WrapValidator(_selector),
    WithJsonSchema(
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": MAX_SELECTOR_LABELS,
            "propertyNames": {"pattern": f"^(?:{_DNS1123_SUBDOMAIN}/)?{_QUALIFIED_NAME}$", "maxLength": 317},
            "additionalProperties": _LABEL_VALUE_SCHEMA,
        }
    ),
]
GatewaySubnetPrefix = Annotated[str, _cidr(29, "(/27 recommended)")]
ClientAddressPool = Annotated[str, _cidr(32, check=_private_pool)]
AppSubnetPrefix = Annotated[str, _cidr(28, "(/26 recommended): App Service needs one address per instance")]
EndpointSubnetPrefix = Annotated[str, _cidr(29, "(a private endpoint takes one address)")]
ProbePath = Annotated[str, Rule(_probe_path, {"type": "string", "pattern": f"^{_PROBE_PATH}$", "maxLength": 2048})]
DnsZone = Annotated[str, Rule(_dns_zone, {"type": "string", "pattern": r"^[A-Za-z0-9.-]+$", "maxLength": 253})]
DnsRecord = Annotated[str, Rule(_dns_record, {"type": "string", "pattern": r"^(?:@|[A-Za-z0-9-]+)$"})]


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | OutOfRange):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


# --- how a section reports ---------------------------------------------------------------------------------


def validate_reporting(handler: ValidatorFunctionWrapHandler, data: Any, problems: Mapping[Loc, str]) -> Any:
    """Run pydantic's validation of ``data`` and report ``problems`` found beside it, one message per field:
    a problem wins over pydantic's errors at or under its location, and gives way to one above it."""
    if not problems:
        return handler(data)
    try:
        value = handler(data)
        errors = []
    except ValidationError as invalid:
        errors = invalid.errors(include_url=False)
    theirs = [e for e in errors if not any(_within(e["loc"], loc) for loc in problems)]
    ours = {loc: m for loc, m in problems.items() if not any(_within(loc, e["loc"], strictly=True) for e in theirs)}
    if not ours and not theirs:
        return value
    kept: list[InitErrorDetails] = [
        {
            "type": problem(e["msg"]) if e["type"] == SPEC_ERROR else e["type"],
            "loc": e["loc"],
            "input": e["input"],
            **({"ctx": e["ctx"]} if "ctx" in e and e["type"] != SPEC_ERROR else {}),  # type: ignore[typeddict-item]
        }
        for e in theirs
    ]
    raise fail(ours, kept)


def _within(loc: Loc, outer: Loc, *, strictly: bool = False) -> bool:
    return loc[: len(outer)] == outer and (len(loc) > len(outer) or not strictly)


def _describe_rules(schema: dict[str, Any]) -> None:
    """A field's description, then its rule in words."""
    for field in schema.get("properties", {}).values():
        if note := field.pop(RULE_NOTE, None):
            field["description"] = f"{field.get('description', '')} {note}".strip()


class Section(BaseModel):
    """One object of the spec: camelCase keys, strict JSON types, immutable; unknown keys are refused."""

    model_config = ConfigDict(
        strict=True,
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        serialize_by_alias=True,
        json_schema_extra=_describe_rules,
    )

    @model_validator(mode="wrap")
    @classmethod
    def _report_keys(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Unknown keys (with the closest known name), keys given twice and explicit nulls, each named, while
        the other fields are still checked."""
        if not isinstance(data, Mapping):
            return handler(data)
        fields = {info.alias or name: info for name, info in cls.model_fields.items()}
        problems: dict[Loc, str] = {(key,): "is given more than once" for key in getattr(data, "duplicates", ())}
        for key, value in data.items():
            if key not in fields:
                close = difflib.get_close_matches(str(key), fields, n=1)
                hint = f"did you mean {close[0]}?" if close else f"known fields: {', '.join(fields)}"
                problems[(key,)] = f"is not a known field; {hint}"
            elif value is None:
                optional = not fields[key].is_required()
                problems[(key,)] = "must not be null" + ("; leave the field out instead" if optional else "")
        return validate_reporting(handler, data, problems | cls._requirements(data))

    @classmethod
    def _requirements(cls, data: Mapping[str, Any]) -> dict[Loc, str]:
        """Fields required only in some bodies, judged on the raw body so they are named whatever else is bad."""
        return {}


# --- the spec ----------------------------------------------------------------------------------------------


class NetworkSpec(Section):
    resource_group: ResourceGroup = Field(description="The resource group of the cluster's VNet.")
    virtual_network: VnetName = Field(description="The VNet the cluster runs in.")


class ServicePort(Section):
    port: Port = Field(description="The Service's port.")
    target_port: TargetPort = Field(description="The pods' port: a number, or a named container port.")
    protocol: Protocol = Field(names.DEFAULT_PROTOCOL, description="The port's protocol.")
    name: Dns1123Label | None = Field(None, description="The port's name; required when there are several ports.")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class KubernetesSpec(Section):
    kubeconfig_setting: AppSettingName = Field(
        names.DEFAULT_KUBECONFIG_SETTING,
        description="The app setting (environment variable) holding the kubeconfig: YAML, or base64 of it.",
    )
    namespace: Dns1123Label = Field(names.DEFAULT_NAMESPACE, description="The Service's namespace.")
    service: Dns1035Label = Field(description="The Service kubelink makes or adopts.")
    selector: Selector = Field(description="The pods' labels: 1-32 Kubernetes label names and values.")
    ports: tuple[ServicePort, ...] = Field(
        strict=False,  # a JSON array, checked for its length first (``_port_count``)
        json_schema_extra={
            "minItems": 1,
            "maxItems": MAX_PORTS,
            "if": {"minItems": 2},
            "then": {"items": {"required": ["name"]}},
        },
        description=f"1-{MAX_PORTS} ports, each its own number.",
    )
    load_balancer_subnet: SubnetName | None = Field(
        None, description="Subnet *name* for the `azure-load-balancer-internal-subnet` annotation."
    )
    load_balancer_ip: LoadBalancerIp | None = Field(
        None, alias="loadBalancerIP", description="IPv4 to pin with the `azure-load-balancer-ipv4` annotation."
    )
    aks_cluster: AksClusterId | None = Field(
        None,
        description="ARM id of an AKS cluster in the link's subscription: credentials then come from ARM "
        "(`listClusterUserCredential`) instead of a kubeconfig setting.",
    )

    @classmethod
    def _requirements(cls, data: Mapping[str, Any]) -> dict[Loc, str]:
        ports = data.get("ports")  # Kubernetes requires every port of a multi-port Service to be named
        if not isinstance(ports, list) or len(ports) < 2:
            return {}
        message = "is required when the Service has several ports"
        return {
            ("ports", i, "name"): message for i, p in enumerate(ports) if isinstance(p, Mapping) and "name" not in p
        }

    @field_validator("ports", mode="wrap")
    @classmethod
    def _port_count(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(value, list | tuple):
            raise problem(f"must be an array of ports, got {json_type(value)}")
        if not 1 <= len(value) <= MAX_PORTS:
            raise problem(f"must have 1-{MAX_PORTS} ports, got {len(value)}")
        return handler(value)

    @field_validator("ports")
    @classmethod
    def _distinct_ports(cls, ports: tuple[ServicePort, ...]) -> tuple[ServicePort, ...]:
        problems: dict[Loc, str] = {}
        names_at: dict[str, int] = {}
        numbers_at: dict[tuple[int, str], int] = {}
        for i, port in enumerate(ports):
            if port.name is not None and (first := names_at.setdefault(port.name, i)) != i:
                problems[(i, "name")] = f"duplicates the name of kubernetes.ports[{first}]"
            if (first := numbers_at.setdefault((port.port, port.protocol), i)) != i:
                problems[(i, "port")] = f"duplicates port {port.port}/{port.protocol} of kubernetes.ports[{first}]"
        if problems:
            raise fail(problems)
        return ports


class GatewaySpec(Section):
    # None only until LinkSpec derives the default: a validated spec always has both names
    name: NetworkChildName = Field(None, description="Default: `{network.virtualNetwork}-gw`.")  # type: ignore[assignment]
    sku: GatewaySku = Field(
        names.DEFAULT_GATEWAY_SKU,
        description=f"The gateway's SKU; legacy {', '.join(names.LEGACY_GATEWAY_SKUS)} only for an existing gateway.",
    )
    gateway_subnet_prefix: GatewaySubnetPrefix | None = Field(
        None,
        description="CIDR of the GatewaySubnet to create when the VNet has none: inside the VNet's address "
        "space, /29 or larger (/27 recommended).",
    )
    public_ip_name: NetworkChildName = Field(None, description="Default: `{gateway.name}-pip`.")  # type: ignore[assignment]
    client_address_pool: ClientAddressPool | None = Field(
        None,
        description="Point-to-site client pool: a private (RFC 1918) CIDR outside the VNet's address space; "
        "required with `integration: gateway`.",
    )
    allow_new_sstp: bool = Field(
        False,
        description="Opt-in: create or enable SSTP point-to-site although Azure's documents say SSTP can no longer "
        "be enabled since 2026-03-31 (refused at pre-flight otherwise; an existing SSTP gateway needs no opt-in).",
    )
    allow_point_to_site_takeover: bool = Field(
        False,
        description="Opt-in: on an adopted gateway, remove what stands in the way of gateway-required integration "
        "(IKEv2 or OpenVPN on a non-Basic SKU, OpenVPN anywhere, Entra ID or RADIUS-only authentication); "
        "refused at pre-flight otherwise.",
    )

    @model_validator(mode="after")
    def _public_ip_name_derivable(self) -> GatewaySpec:
        if (
            self.name
            and self.public_ip_name is None
            and _NETWORK_CHILD.problem(names.default_public_ip_name(self.name))
        ):
            pip = names.default_public_ip_name(self.name)
            raise fail({("name",): f"is too long to derive the default gateway.publicIpName '{pip}'; set it"})
        return self


class SubnetSpec(Section):
    name: SubnetName = Field(description="The subnet's name (not GatewaySubnet).")
    prefix: AppSubnetPrefix = Field(description="Its CIDR inside the VNet, /28 or larger (/26 recommended).")


class VirtualNetworkSpec(Section):
    subscription_id: Guid | None = Field(None, description="Default: the link's `subscriptionId`.")
    resource_group: ResourceGroup = Field(description="The resource group of the app's own VNet.")
    name: VnetName = Field(description="The app's own integration VNet.")


class AppSpec(Section):
    resource_group: ResourceGroup = Field(description="The App Service app's resource group.")
    name: SiteName = Field(description="The App Service app.")
    setting: AppSettingName = Field(
        names.DEFAULT_APP_SETTING, description="The app setting that gets the private address (or the DNS name)."
    )
    subnet: SubnetSpec | None = Field(
        None,
        description="The subnet delegated to `Microsoft.Web/serverFarms` (Flex Consumption: "
        "`Microsoft.App/environments`) for regional integration, in `app.virtualNetwork` when given; required with "
        "`integration: regional` and `privateLink`.",
    )
    virtual_network: VirtualNetworkSpec | None = Field(
        None,
        description="The app's own integration VNet when it is not the cluster's: peered with the cluster's both ways "
        "(`regional`), or holding the private endpoint (`privateLink`, required).",
    )


class PrivateLinkSpec(Section):
    endpoint_subnet: SubnetSpec = Field(
        description="`{name, prefix}` of the private endpoint's subnet in `app.virtualNetwork` (not `app.subnet`; "
        "no delegation), /29 or larger."
    )


class ProbeSpec(Section):
    path: ProbePath = Field(
        description="A path on the app that reaches the private service; enables the connectivity check."
    )
    expect_status: HttpStatus = Field(names.DEFAULT_EXPECT_STATUS, description="The status the probe must answer.")


class DnsSpec(Section):
    zone: DnsZone = Field(description="A private DNS zone linked to the VNet (made if missing).")
    record: DnsRecord = Field(description="The A record for the private IP: a label, or `@` for the zone apex.")

    @property
    def fqdn(self) -> str:
        """The A record's name; ``@`` is the zone apex."""
        return self.zone if self.record == "@" else f"{self.record}.{self.zone}"


#: Fields that only one integration path needs, as JSON paths: adding a path is one line here.
REQUIRED_BY_INTEGRATION: dict[names.Integration, tuple[tuple[str, ...], ...]] = {
    "gateway": (("gateway", "clientAddressPool"),),
    "regional": (("app", "subnet"),),
    "privateLink": (
        ("app", "subnet"),
        ("app", "virtualNetwork"),
        ("kubernetes", "aksCluster"),
        ("privateLink", "endpointSubnet"),
    ),
}


def _integration_needs_schema(schema: dict[str, Any]) -> None:
    """``REQUIRED_BY_INTEGRATION`` in JSON Schema: one ``if``/``then`` per path (an absent integration is the
    default's)."""
    _describe_rules(schema)
    schema["description"] = "A link: a Kubernetes Service reached privately from an App Service app."
    rules = []
    for integration, paths in REQUIRED_BY_INTEGRATION.items():
        chosen: dict[str, Any] = {"properties": {"integration": {"const": integration}}}
        if integration != names.DEFAULT_INTEGRATION:
            chosen["required"] = ["integration"]
        for section, field in paths:
            need = {"required": [section], "properties": {section: {"required": [field]}}}
            rules.append({"if": chosen, "then": need})
    schema["allOf"] = rules


class LinkSpec(Section):
    """The validated, immutable desired state of one link (``to_json`` is the body with every default filled,
    which is what crosses the orchestrator/activity boundary and what the link record stores)."""

    model_config = ConfigDict(json_schema_extra=_integration_needs_schema)

    name: LinkName = Field(description="The link's identity.")
    subscription_id: Guid = Field(description="The subscription of the network and the app.")
    integration: IntegrationName = Field(
        names.DEFAULT_INTEGRATION,
        description="`gateway` (gateway-required VNet integration, legacy) or `regional` (recommended: no gateway).",
    )
    network: NetworkSpec
    kubernetes: KubernetesSpec
    gateway: GatewaySpec = Field(
        default_factory=dict,  # validated: a dict becomes a GatewaySpec
        validate_default=True,
        description="The VPN gateway and its point-to-site configuration (`integration: gateway`).",
    )
    app: AppSpec
    probe: ProbeSpec | None = Field(None, description="A GET on the app through the private path, run by verification.")
    remediate: Remediation = Field(
        False,
        description='When drift is found: `true` re-provisions (fixes everything), `"safe"` fixes only what does '
        "not restart the app and reports the rest, `false` reports only.",
    )
    dns: DnsSpec | None = Field(
        None, description="A private DNS zone and A record for the private IP; the app setting then holds the name."
    )
    private_link: PrivateLinkSpec | None = Field(
        None, description="The private endpoint's subnet (`integration: privateLink`, required there)."
    )
    allow_managed_resource_groups: tuple[ResourceGroup, ...] = Field(
        (),
        strict=False,  # a JSON array
        max_length=10,
        description="Resource groups managed by something else (`managedBy`, e.g. AKS's `MC_…`) that a run may write "
        "into all the same: an explicit opt-in per group; otherwise pre-flight refuses (`ManagedResourceGroup`).",
    )

    @classmethod
    def _requirements(cls, data: Mapping[str, Any]) -> dict[Loc, str]:
        chosen = data.get("integration", names.DEFAULT_INTEGRATION)
        integration = chosen if chosen in names.INTEGRATIONS else names.DEFAULT_INTEGRATION
        problems: dict[Loc, str] = {}
        for path in REQUIRED_BY_INTEGRATION.get(integration, ()):
            node: Any = data
            for key in path[:-1]:
                node = node.get(key, {}) if isinstance(node, Mapping) else None
            if isinstance(node, Mapping) and path[-1] not in node:
                problems[path] = f"is required when integration is '{integration}'"
        return problems

    @model_validator(mode="after")
    def _defaults_and_address_plan(self) -> LinkSpec:
        """Derives the gateway's default names, then checks the addresses of one body against each other."""
        if problems := _address_conflicts(self):
            raise fail(problems)
        gateway_name = self.gateway.name or names.default_gateway_name(self.network.virtual_network)
        gateway = self.gateway.model_copy(
            update={
                "name": gateway_name,
                "public_ip_name": self.gateway.public_ip_name or names.default_public_ip_name(gateway_name),
            }
        )
        return self.model_copy(update={"gateway": gateway})

    # --- JSON -----------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @staticmethod
    def from_json(body: Mapping[str, Any]) -> LinkSpec:
        """A spec from JSON (a stored spec, an activity's input): validated like a request body."""
        return LinkSpec.model_validate(body)

    @property
    def remediation(self) -> Literal["all", "safe", "none"]:
        """``remediate`` as a policy: ``true`` keeps meaning "fix everything"."""
        from kubelink.drift import remediation_policy

        return remediation_policy(self.remediate)

    # --- ARM ids, derived once so no activity formats them by hand ------------------------------------------
    @property
    def network_rg_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.network.resource_group}"

    @property
    def vnet_id(self) -> str:
        return f"{self.network_rg_id}/providers/Microsoft.Network/virtualNetworks/{self.network.virtual_network}"

    @property
    def gateway_subnet_id(self) -> str:
        return f"{self.vnet_id}/subnets/{GATEWAY_SUBNET}"

    @property
    def public_ip_id(self) -> str:
        return f"{self.network_rg_id}/providers/Microsoft.Network/publicIPAddresses/{self.gateway.public_ip_name}"

    @property
    def gateway_id(self) -> str:
        return f"{self.network_rg_id}/providers/Microsoft.Network/virtualNetworkGateways/{self.gateway.name}"

    @property
    def app_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.app.resource_group}"
            f"/providers/Microsoft.Web/sites/{self.app.name}"
        )

    @property
    def app_vnet_id(self) -> str:
        """The app's integration VNet: its own (``app.virtualNetwork``) when given, else the cluster's."""
        own = self.app.virtual_network
        if own is None:
            return self.vnet_id
        return (
            f"/subscriptions/{own.subscription_id or self.subscription_id}/resourceGroups/{own.resource_group}"
            f"/providers/Microsoft.Network/virtualNetworks/{own.name}"
        )

    @property
    def app_subnet_id(self) -> str | None:
        return f"{self.app_vnet_id}/subnets/{self.app.subnet.name}" if self.app.subnet else None

    @property
    def private_link_service_name(self) -> str:
        """The Private Link Service AKS makes for the link's Service (``azure-pls-name``)."""
        return f"kubelink-{self.name}"

    @property
    def private_endpoint_id(self) -> str:
        """The private endpoint lives beside the app's VNet (its resource group and subscription)."""
        group = self.app_vnet_id.split("/providers/")[0]
        return f"{group}/providers/Microsoft.Network/privateEndpoints/kubelink-{self.name}"

    @property
    def endpoint_subnet_id(self) -> str | None:
        return f"{self.app_vnet_id}/subnets/{self.private_link.endpoint_subnet.name}" if self.private_link else None

    @property
    def dns_rg_id(self) -> str:
        """The private DNS zone lives beside the app's integration VNet (the scope the link already writes)."""
        return self.app_vnet_id.split("/providers/")[0]

    @property
    def dns_resource_group(self) -> str:
        return self.dns_rg_id.split("/")[4]

    @property
    def dns_zone_id(self) -> str | None:
        return f"{self.dns_rg_id}/providers/Microsoft.Network/privateDnsZones/{self.dns.zone}" if self.dns else None

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every ARM scope this link touches, for the ``KUBELINK_ALLOWED_SCOPES`` check."""
        scopes = [self.network_rg_id, f"/subscriptions/{self.subscription_id}/resourceGroups/{self.app.resource_group}"]
        if self.app.virtual_network is not None:
            scopes.append(self.app_vnet_id.split("/providers/")[0])
        if self.kubernetes.aks_cluster:
            scopes.append(self.kubernetes.aks_cluster)
        return tuple(scopes)


class SpecJsonSchema(GenerateJsonSchema):
    """The spec's JSON Schema as a client must send it: an optional field is left out, never ``null`` (the model
    refuses explicit nulls), and properties carry no generated titles."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        if generated.get("default", ...) is None:
            del generated["default"]
        return generated

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schema(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The link spec's JSON Schema (2020-12, as OpenAPI 3.1 takes it) and its sections' schemas, referenced
    through ``ref_template`` (e.g. ``#/components/schemas/{model}``)."""
    schema = LinkSpec.model_json_schema(by_alias=True, ref_template=ref_template, schema_generator=SpecJsonSchema)
    return schema, schema.pop("$defs")


def _address_conflicts(spec: LinkSpec) -> dict[Loc, str]:
    """Conflicts between the addresses and names of one body (each field is valid on its own by now)."""
    kube, gateway, subnet = spec.kubernetes, spec.gateway, spec.app.subnet
    ip = kube.load_balancer_ip and ipaddress.IPv4Address(kube.load_balancer_ip)
    problems: dict[Loc, str] = {}
    if kube.aks_cluster and kube.aks_cluster.split("/")[2].lower() != spec.subscription_id.lower():
        problems[("kubernetes", "aksCluster")] = "must be in the link's subscription (subscriptionId)"
    if spec.integration == "gateway":
        pool = gateway.client_address_pool and ipaddress.IPv4Network(gateway.client_address_pool)
        prefix = gateway.gateway_subnet_prefix and ipaddress.IPv4Network(gateway.gateway_subnet_prefix)
        if pool and prefix and pool.overlaps(prefix):
            problems[("gateway", "clientAddressPool")] = (
                f"overlaps gateway.gatewaySubnetPrefix {prefix}: the pool must lie outside the VNet's address space"
            )
        if ip and pool and ip in pool:
            problems[("kubernetes", "loadBalancerIP")] = f"lies in gateway.clientAddressPool {pool}, not in the VNet"
        if ip and prefix and ip in prefix:
            problems[("kubernetes", "loadBalancerIP")] = (
                f"lies in gateway.gatewaySubnetPrefix {prefix}: the GatewaySubnet can't host a load balancer"
            )
    elif subnet:
        if ip and ip in ipaddress.IPv4Network(subnet.prefix):
            problems[("kubernetes", "loadBalancerIP")] = (
                f"lies in app.subnet.prefix {subnet.prefix}: the app's delegated subnet can't host a load balancer"
            )
        if kube.load_balancer_subnet and kube.load_balancer_subnet.lower() == subnet.name.lower():
            problems[("kubernetes", "loadBalancerSubnet")] = (
                "must not be app.subnet.name: the app's delegated subnet can't host a load balancer"
            )
    return problems
