"""Regional ("swift") VNet integration (docs/azure.md §10), and what moving off gateway-required integration removes.

Pure: states are built from ARM REST JSON, bodies are ARM REST JSON.

Ownership: of the app's subnet kubelink owns only the ``Microsoft.Web/serverFarms`` delegation (and the prefix of
a subnet it creates); an adopted subnet keeps its NSG, route table, service endpoints and other delegations, since
a subnet PUT replaces the whole subnet. Of the app it owns the regional connection's subnet. When a link moves
from the gateway path, the app's gateway-required connection to the same VNet and kubelink's own root
certificate for the app (``kubelink-{app}``) are removed; the gateway and everyone else's certificates stay.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelink.desired import ArmState, dig
from kubelink.desired.gateway import GatewayState, repair, root_certificate_name
from kubelink.diff import DiffItem, diff_fields, path

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

WEB_DELEGATION = "Microsoft.Web/serverFarms"
DELEGATIONS = "properties.delegations"


# --- the app's delegated subnet -----------------------------------------------------------------------


class AppSubnetState(ArmState):
    """The subnet named ``app.subnet.name``."""

    @property
    def delegations(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(dig(self.body, "properties", "delegations") or ())

    @property
    def delegated_to_web(self) -> bool:
        return any(_service_name(d).lower() == WEB_DELEGATION.lower() for d in self.delegations)


def _service_name(delegation: Mapping[str, Any]) -> str:
    """ARM nests it under ``properties``; some tools send it flattened."""
    return str(dig(delegation, "properties", "serviceName") or delegation.get("serviceName") or "")


def diff_app_subnet(spec: LinkSpec, state: AppSubnetState) -> tuple[DiffItem, ...]:
    """A missing subnet differs in prefix and delegation; an existing one only in a missing delegation (its prefix
    is checked by pre-flight: a subnet in use cannot be resized), or in a failed last operation (re-sent to repair)."""
    delegation = DiffItem("add", (*path(DELEGATIONS), WEB_DELEGATION), None, WEB_DELEGATION)
    if not state.exists:
        assert spec.app.subnet is not None, "regional integration needs app.subnet (validated)"
        return (*diff_fields({"properties.addressPrefix": spec.app.subnet.prefix}, None), delegation)
    return (() if state.delegated_to_web else (delegation,)) + repair(state.provisioning_state)


def app_subnet_body(spec: LinkSpec, state: AppSubnetState) -> dict[str, Any]:
    """The subnet PUT: a fresh delegated subnet, or the observed one with the delegation added and nothing dropped."""
    assert spec.app.subnet is not None, "regional integration needs app.subnet (validated)"
    if state.body is None:
        body: dict[str, Any] = {"name": spec.app.subnet.name, "properties": {"addressPrefix": spec.app.subnet.prefix}}
    else:
        body = copy.deepcopy(dict(state.body))
    props = body.setdefault("properties", {})
    if not state.delegated_to_web:
        taken = {str(d.get("name")) for d in state.delegations}
        name = "delegation" if "delegation" not in taken else "webServerFarms"
        props["delegations"] = [
            *state.delegations,
            {"name": name, "properties": {"serviceName": WEB_DELEGATION}},
        ]
    return body


# --- the app's regional connection --------------------------------------------------------------------


@dataclass(frozen=True)
class RegionalState:
    """The app's side: its regional subnet (``networkConfig/virtualNetwork``) and whether it still has a
    gateway-required connection to the link's VNet (which Azure requires to be removed first)."""

    subnet_id: str | None
    gateway_connection: bool

    @staticmethod
    def from_arm(
        network_config: Mapping[str, Any] | None, gateway_connection: Mapping[str, Any] | None
    ) -> RegionalState:
        return RegionalState(
            subnet_id=dig(network_config, "properties", "subnetResourceId") or None,
            gateway_connection=gateway_connection is not None,
        )


def regional_connection_body(spec: LinkSpec) -> dict[str, Any]:
    return {"properties": {"subnetResourceId": spec.app_subnet_id}}


def diff_regional_connection(spec: LinkSpec, state: RegionalState) -> tuple[DiffItem, ...]:
    """The subnet the app is connected through, and a gateway-required connection to the same VNet that must go."""
    items = diff_fields(
        {"properties.subnetResourceId": spec.app_subnet_id}, {"properties.subnetResourceId": state.subnet_id}
    )
    if state.gateway_connection:
        field = ("virtualNetworkConnections", spec.network.virtual_network)
        items += (DiffItem("remove", field, "gateway-required", None),)
    return items


# --- leaving the gateway: kubelink's root certificate for the app -------------------------------------


def releases_gateway(spec: LinkSpec, app_gateway_connection: bool) -> bool:
    """Whether a regional link cleans up after the gateway path: the app is still connected through the gateway,
    or the spec keeps its gateway section (how a re-submitted gateway link says which gateway it leaves, and what
    lets a failed or interrupted move finish on the next run). A fresh regional link touches no gateway."""
    return spec.integration == "regional" and (app_gateway_connection or spec.gateway.client_address_pool is not None)


def diff_released_certificate(spec: LinkSpec, gateway: GatewayState) -> tuple[DiffItem, ...]:
    """Kubelink's root certificate for the app (``kubelink-{app}``), while the gateway still has it."""
    name = root_certificate_name(spec)
    kept = next((c for c in gateway.root_certificates if c.name == name), None)
    if kept is None:
        return ()
    return (
        DiffItem(
            "remove", ("properties", "vpnClientConfiguration", "vpnClientRootCertificates", name), kept.thumbprint, None
        ),
    )


def gateway_without_certificate(spec: LinkSpec, gateway: GatewayState) -> dict[str, Any]:
    """The observed gateway (read-modify-write) without kubelink's root certificate for the app."""
    assert gateway.body is not None, "only an existing gateway holds certificates"
    body = copy.deepcopy(dict(gateway.body))
    p2s = dig(body, "properties", "vpnClientConfiguration") or {}
    name = root_certificate_name(spec)
    p2s["vpnClientRootCertificates"] = [c for c in p2s.get("vpnClientRootCertificates") or [] if c.get("name") != name]
    return body
