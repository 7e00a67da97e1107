"""The link spec's fixed names, choices and defaults, defined once, for code that needs them without the model.

The model (``kubelink.spec``) is built on pydantic, which takes about a quarter of a second to import; this
module imports nothing heavy, so the HTTP layer, the orchestrators and the desired state can use these names on
a cold start without loading it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

Integration = Literal["gateway", "regional", "privateLink"]
INTEGRATIONS: tuple[Integration, ...] = get_args(Integration)
DEFAULT_INTEGRATION: Integration = "gateway"

GATEWAY_SUBNET = "GatewaySubnet"
GATEWAY_SKUS = ("Basic", "VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ")
#: accepted only to adopt an existing gateway: Azure no longer creates them (the pre-flight checks)
LEGACY_GATEWAY_SKUS = ("VpnGw1", "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5")
DEFAULT_GATEWAY_SKU = "VpnGw1AZ"
DEFAULT_KUBECONFIG_SETTING = "KUBELINK_KUBECONFIG"
DEFAULT_NAMESPACE = "default"
DEFAULT_APP_SETTING = "PrivateAddress"
Protocol = Literal["TCP", "UDP"]
PROTOCOLS: tuple[Protocol, ...] = get_args(Protocol)
DEFAULT_PROTOCOL: Protocol = "TCP"
DEFAULT_EXPECT_STATUS = 200
#: ``remediate: "safe"``: fix only drift whose fix does not restart the app; report the rest
SAFE_REMEDIATION = "safe"


def default_gateway_name(virtual_network: str) -> str:
    return f"{virtual_network}-gw"


def default_public_ip_name(gateway: str) -> str:
    return f"{gateway}-pip"


def provision_instance_id(name: str) -> str:
    """The Durable instance id of a link's provisioning: one per link, so a second start is refused (409)."""
    return f"link-{name}"


def teardown_instance_id(name: str) -> str:
    """The Durable instance id of a link's teardown (``DELETE /api/links/{name}``)."""
    return f"teardown-link-{name}"


def verify_instance_id(name: str) -> str:
    """The Durable instance id of an on-demand verification; the prefix keeps it clear of ``link-*`` ids
    and of the sweep's fixed ``verify-sweep``."""
    return f"verify-link-{name}"


@dataclass(frozen=True)
class TextRule:
    """A string field's rule: a regular expression over the whole value and a length range, described in words
    for the error message; the model turns the same rule into its JSON Schema."""

    pattern: str
    min_length: int
    max_length: int
    what: str

    @property
    def summary(self) -> str:
        size = f"{self.min_length}-{self.max_length}" if self.min_length != self.max_length else str(self.min_length)
        return f"{size} characters: {self.what}"

    def problem(self, value: str) -> str | None:
        if self.min_length <= len(value) <= self.max_length and re.fullmatch(self.pattern, value):
            return None
        return f"must be {self.summary}"


LINK_NAME = TextRule(
    r"[a-z][a-z0-9-]*[a-z0-9]", 3, 40, "lowercase letters, digits and '-', starting with a letter, not ending with '-'"
)


def is_link_name(value: str) -> bool:
    """Whether ``value`` can name a link (for route parameters, before any storage lookup)."""
    return LINK_NAME.problem(value) is None
