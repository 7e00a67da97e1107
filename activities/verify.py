"""Read-only verification of one link: provisioning's own observe → diff, plus the health facts drift needs.

Nothing here writes. Each resource is read once and compared with the pure ``kubelink.desired`` diffs that
the ensure activities apply, so verification, plan and provisioning can never disagree about what differs.
On top of those diffs verification checks what only a *provisioned* link has (README, "Drift"): the
Service still has the address the app was given, the gateway is ``Succeeded``, the app's VNet connection
needs no resync, and the app setting still holds that address.

Reads per link: the Service (Kubernetes), the gateway, the app's VNet connection, and the app settings list
(3 ARM requests; not the site config, docs/azure.md §13); the sweep shares them among links
(activities/fleet.py). A regional link reads its delegated subnet and the app's regional connection instead
of the gateway side, and a link with ``dns`` its zone, VNet link and A record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.contract import Payload, run_activity
from activities.dns import dns_changes
from activities.observe import network, observe_app_package, observe_app_settings, web
from activities.peering import peering_changes
from activities.private_link import endpoint_changes
from activities.regional import regional_changes, routing_change
from activities.service import observe_service
from activities.vnet_integration import connection_id
from adapters.clients import arm_error
from adapters.store import LinkNotFound, LinkRecord, LinkStore
from kubelink.desired.app_setting import diff_app_setting, setting_value
from kubelink.desired.gateway import FAILED_STATES, SUCCEEDED, GatewayState, diff_gateway, diff_point_to_site
from kubelink.desired.regional import needs_route_all
from kubelink.desired.service import ServiceState, diff_service, resource_name
from kubelink.desired.vnet_integration import AppPackageState, diff_app_package, diff_vnet_connection
from kubelink.diff import DiffItem, ResourceChange
from kubelink.ownership import Ownership
from kubelink.progress import Step

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

if TYPE_CHECKING:
    from azure.mgmt.web import WebSiteManagementClient

STEP = Step.VERIFY
#: the Ready reason the HTTP starter sets while a provisioning run is under way
PROVISIONING = "Provisioning"
#: ... and while a teardown is
TEARING_DOWN = "TearingDown"
#: the Service's address as the app setting holds it
SERVICE_IP_FIELD = ("status", "loadBalancer", "ingress", 0, "ip")

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def list_verifiable_links(payload: dict[str, Any]) -> dict[str, Any]:
    """Names of the links a sweep verifies, by name."""
    try:
        links = LinkStore.from_env().list_links()
    except Exception as exc:  # storage unreachable or refusing: the orchestrator retries transient errors
        return {"ok": False, "error": arm_error(exc, step=STEP).to_json()}
    return {"ok": True, "result": sorted(link.name for link in links if _verifiable(link))}


def _verifiable(link: LinkRecord) -> bool:
    """Provisioned at least once, and not being provisioned now (half-done steps are not drift)."""
    return bool(link.last_provisioned) and not (link.ready and link.ready.reason in (PROVISIONING, TEARING_DOWN))


@bp.activity_trigger(input_name="payload")
def verify_link_config(payload: dict[str, Any]) -> dict[str, Any]:
    """The link's spec and provisioned address from its record, and every resource's differences (plan rows)."""
    name = payload["name"]
    try:
        record = LinkStore.from_env().get_link(name)
    except Exception as exc:
        return {"ok": False, "error": arm_error(exc, step=STEP, resource=name).to_json()}
    if record is None:
        return {"ok": False, "error": LinkNotFound(name).to_json()}

    def checked(spec: LinkSpec, _: Payload) -> dict[str, Any]:
        changes = labelled_checks(spec, record)
        return {"result": {"spec": record.spec, "privateAddress": record.private_address, "checks": changes}}

    return run_activity(STEP, {"spec": record.spec}, checked, resource=resource_name)


class Reads:
    """Where ``check_link`` gets what it compares: here, straight from Azure and Kubernetes, one link at a
    time; the sweep's ``FleetReads`` (activities/fleet.py) shares each read among the links that use it."""

    def service(self, spec: LinkSpec) -> ServiceState:
        return observe_service(spec)

    def app_package(self, spec: LinkSpec) -> AppPackageState:
        return observe_app_package(spec, self.web(spec), network(spec))

    def regional(self, spec: LinkSpec) -> list[ResourceChange]:
        return regional_changes(spec, network(spec), self.web(spec))

    def dns(self, spec: LinkSpec, private_address: str) -> list[ResourceChange]:
        return dns_changes(spec, private_address)

    def app_settings(self, spec: LinkSpec) -> dict[str, str]:
        return observe_app_settings(spec, self.web(spec))

    def web(self, spec: LinkSpec) -> WebSiteManagementClient:
        return web(spec)


class _OneLink(Reads):
    """One web client for the link's app reads, as a per-link verification always made them."""

    def __init__(self) -> None:
        self._web: WebSiteManagementClient | None = None

    def web(self, spec: LinkSpec) -> WebSiteManagementClient:
        self._web = self._web or web(spec)
        return self._web


def check_link(spec: LinkSpec, private_address: str | None, reads: Reads | None = None) -> list[dict[str, Any]]:
    """Every check of README "Drift" except the probe, as plan rows (``ResourceChange.to_json``)."""
    reads = reads or _OneLink()
    # on the private-link path the private address is the endpoint's, not the Service's
    service_ip = None if spec.integration == "privateLink" else private_address
    changes = [service_check(spec, reads.service(spec), service_ip)]
    if spec.integration == "gateway":
        changes += gateway_checks(spec, reads.app_package(spec))
    else:
        changes += reads.regional(spec)
        if spec.integration == "regional" and spec.app.virtual_network is not None:
            changes += peering_changes(spec)
        if spec.integration == "privateLink":
            changes += endpoint_changes(spec, ip=private_address)
        if needs_route_all(private_address):
            changes.append(routing_change(spec, private_address, reads.web(spec)))
    if private_address is not None:
        if spec.dns:
            changes += reads.dns(spec, private_address)
        settings = reads.app_settings(spec)
        value = setting_value(spec, private_address)
        # the settings resource always exists: a missing setting is a differing field, not a missing resource
        changes.append(
            ResourceChange(
                "appSetting", f"{spec.app_id}/config/appsettings", True, diff_app_setting(spec, settings, value)
            )
        )
    return [change.to_json() for change in changes]


def labelled_checks(spec: LinkSpec, record: LinkRecord, reads: Reads | None = None) -> list[dict[str, Any]]:
    """``check_link`` of the record's address, each row labelled with the link's ownership of it (``owned`` or
    ``adopted``, as drift records name it)."""
    return Ownership.from_json(record.ownership).label(check_link(spec, record.private_address, reads))


def service_check(spec: LinkSpec, state: ServiceState, private_address: str | None) -> ResourceChange:
    """Owned fields (internal annotation, type, selector, ports) and the address Azure gave it."""
    items = diff_service(spec, state)
    if private_address is not None and state.exists and state.ingress_ip != private_address:
        items += (
            DiffItem("change" if state.ingress_ip else "remove", SERVICE_IP_FIELD, state.ingress_ip, private_address),
        )
    return ResourceChange(Step.SERVICE, resource_name(spec), state.exists, items)


def gateway_checks(spec: LinkSpec, seen: AppPackageState) -> list[ResourceChange]:
    """The gateway (Succeeded, type, SKU), its point-to-site (pool, SSTP, the app's root certificate), and the
    app side: the VNet connection exists and needs no resync. Not the site config's ``vnetName`` (docs/azure.md
    §13): it only says the package was handed over once, which a provisioned link's connection already shows."""
    gateway = seen.gateway
    changes = [
        ResourceChange(Step.GATEWAY, spec.gateway_id, gateway.exists, diff_gateway(spec, gateway) + _settled(gateway))
    ]
    certificate = seen.connection.certificate
    if gateway.exists and certificate is not None:
        changes.append(
            ResourceChange(Step.POINT_TO_SITE, spec.gateway_id, True, diff_point_to_site(spec, gateway, certificate))
        )
    connection = seen.connection
    changes.append(
        ResourceChange(
            "vnetIntegration", connection_id(spec), connection.exists, diff_vnet_connection(spec, connection)
        )
    )
    if connection.exists:
        # the gateway's trust of the app's certificate is the pointToSite row's finding: one record per fact
        app_side = tuple(i for i in diff_app_package(seen) if i.field[0] != "gateway")
        changes.append(ResourceChange(Step.VNET_INTEGRATION, f"{connection_id(spec)}/gateways/primary", True, app_side))
    return changes


def _settled(gateway: GatewayState) -> tuple[DiffItem, ...]:
    """A gateway busy with someone's update is not ``Succeeded`` either (failed states are ``diff_gateway``'s)."""
    state = gateway.provisioning_state
    if not gateway.exists or state == SUCCEEDED or state in FAILED_STATES:
        return ()
    return (DiffItem("change", ("properties", "provisioningState"), state, SUCCEEDED),)
