"""Gateway-required VNet integration on the app side (docs/azure.md §9.1, §9.3 to §9.5).

The app's VNet connection (``sites/{app}/virtualNetworkConnections/{vnet}``) is declared first, so its
``certBlob`` can go into the gateway's first PUT; once the gateway trusts it, the VPN client package is
handed to the app. The package URI is write-only, so convergence is judged by what Azure reports:
the connection exists and needs no resync, the gateway trusts its certificate, and the app's site config
names the VNet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelink.desired import dig
from kubelink.desired.gateway import GatewayState, RootCertificate, root_certificate_name
from kubelink.diff import DiffItem, diff_fields

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec


@dataclass(frozen=True)
class VnetConnectionState:
    """``VnetInfoResource`` as REST JSON. The certificate stays in memory: it never reaches an output."""

    exists: bool
    vnet_resource_id: str | None = None
    cert_thumbprint: str | None = None
    resync_required: bool = False
    certificate: RootCertificate | None = None

    @staticmethod
    def from_arm(spec: LinkSpec, body: Mapping[str, Any] | None) -> VnetConnectionState:
        if body is None:
            return VnetConnectionState(exists=False)
        blob = dig(body, "properties", "certBlob")
        return VnetConnectionState(
            exists=True,
            vnet_resource_id=dig(body, "properties", "vnetResourceId"),
            cert_thumbprint=dig(body, "properties", "certThumbprint"),
            resync_required=bool(dig(body, "properties", "resyncRequired")),
            certificate=RootCertificate(root_certificate_name(spec), blob) if blob else None,
        )


def desired_vnet_connection(spec: LinkSpec) -> dict[str, Any]:
    return {"properties": {"vnetResourceId": spec.vnet_id}}


def diff_vnet_connection(spec: LinkSpec, state: VnetConnectionState) -> tuple[DiffItem, ...]:
    field = "properties.vnetResourceId"
    return diff_fields({field: spec.vnet_id}, {field: state.vnet_resource_id})


@dataclass(frozen=True)
class AppPackageState:
    """What says whether the app's VPN package still works for the VNet: the app's connection (its certificate,
    ``resyncRequired``) and the gateway (does it trust that certificate). Verification reads no more (docs/azure.md
    §13): a connection that stays declared keeps the package handed to it."""

    connection: VnetConnectionState
    gateway: GatewayState

    @property
    def gateway_trusts_app(self) -> bool:
        cert = self.connection.certificate
        return cert is not None and self.gateway.trusts(cert)


@dataclass(frozen=True)
class AppGatewayState(AppPackageState):
    """... and, for provisioning, whether the package was ever handed over: ``siteConfig.vnetName``, which App
    Service sets at the hand-off (``vpnPackageUri`` itself is write-only)."""

    app_vnet_name: str | None


def diff_app_package(state: AppPackageState) -> tuple[DiffItem, ...]:
    """Why a handed-over package no longer works: the connection needs a resync, or the gateway does not trust the
    app's certificate."""
    items = []
    if state.connection.resync_required:
        items.append(DiffItem("change", ("properties", "resyncRequired"), True, False))
    if not state.gateway_trusts_app:
        cert = state.connection.certificate
        items.append(
            DiffItem(
                "add", ("gateway", "vpnClientRootCertificates"), None, cert.thumbprint if cert else "app certificate"
            )
        )
    return tuple(items)


def diff_app_gateway(spec: LinkSpec, state: AppGatewayState) -> tuple[DiffItem, ...]:
    """Empty when converged; otherwise why the package must be generated and handed to the app again."""
    vnet = spec.network.virtual_network
    handed = diff_fields({"siteConfig.vnetName": vnet}, {"siteConfig.vnetName": state.app_vnet_name or None})
    return (*handed, *diff_app_package(state))
