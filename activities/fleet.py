"""The sweep's verification of many links at once: each shared resource read once, a sliding window of links.

``verify_fleet`` checks a list of links with the very code a per-link verification uses (``labelled_checks``,
``checked_drift``, ``save_verification``), so each link's drift records, ``Ready`` and ``lastVerified`` come
out as ``verify_link`` would leave them. What changes is where the reads come from (``FleetReads``):

- every ARM GET made through ``activities.arm.read`` is shared by key (operation, subscription, arguments):
  one GET per gateway and per app's VNet connection, however many links name them (verification reads no site
  config: docs/azure.md §13), so a link on an app of its own costs two ARM requests, its connection and settings;
- one ``config/appsettings/list`` per app (it is a POST, which ARM counts as a write);
- one Service *list* per cluster and namespace instead of a GET per Service;
- the probe's target, the app's ``defaultHostName``, is kept in the link record; the site is read only for
  a link without one, or when a probe cannot connect (the host name may have changed).

Links are verified ``concurrency`` at a time, each starting as soon as one ends (a sliding window, not
batches); every ARM client of the process paces itself on ARM's remaining-requests headers and on 429
``Retry-After`` (``adapters.pacing``). Regional and DNS checks use shared clients but read per link.
A link that drifted and asks for remediation is left unrecorded: the sweep verifies it again with
``verify_link``, which remediates. A transient error leaves the link for the sweep to retry after a durable
timer; on the last attempt it is recorded as a per-link verification records it (``Ready`` Unknown).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import azure.durable_functions as df

from activities.arm import read
from activities.drift import save_verification
from activities.observe import network, observe_app_package, web
from activities.probe import app_host, probe_app
from activities.service import REQUEST_TIMEOUT
from activities.verify import STEP, Reads, labelled_checks
from adapters.clients import arm_error, is_platform_error, kube_core_api
from adapters.store import LinkRecord, LinkStore
from kubelink.desired.service import ServiceState
from kubelink.desired.vnet_integration import AppPackageState
from kubelink.drift import ProbeOutcome, checked_drift
from kubelink.errors import KubelinkError, PermanentError

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.web import WebSiteManagementClient

    from kubelink.spec import LinkSpec

bp = df.Blueprint()

T = TypeVar("T")


class _Shared:
    """Values computed once per key, whichever thread asks first; the others wait for it (errors included)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, Future[Any]] = {}

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        with self._lock:
            future = self._values.get(key)
            owner = future is None
            if future is None:
                future = self._values[key] = Future()
        if owner:
            try:
                future.set_result(load())
            except BaseException as exc:
                future.set_exception(exc)
        result: T = future.result()
        return result


class FleetReads(Reads):
    """``Reads`` shared by every link of one ``verify_fleet`` call (see the module docstring)."""

    def __init__(self) -> None:
        self._shared = _Shared()

    def web(self, spec: LinkSpec) -> WebSiteManagementClient:
        return self._shared.get(("web", spec.subscription_id), lambda: web(spec))

    def network(self, spec: LinkSpec) -> NetworkManagementClient:
        return self._shared.get(("network", spec.subscription_id), lambda: network(spec))

    def read(self, get: Callable[..., Any], *args: str) -> dict[str, Any] | None:
        operations = get.__self__  # type: ignore[attr-defined]
        subscription = operations._config.subscription_id
        key = (type(operations).__name__, get.__name__, subscription, *(a.lower() for a in args))
        return self._shared.get(key, lambda: read(get, *args))

    def service(self, spec: LinkSpec) -> ServiceState:
        k = spec.kubernetes
        cluster = k.aks_cluster.lower() if k.aks_cluster else f"setting:{k.kubeconfig_setting}"
        core = self._shared.get(("kubernetes", cluster), lambda: kube_core_api(spec))

        def list_services() -> dict[str, dict[str, Any]]:
            listed: Any = core.list_namespaced_service(
                k.namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
            )
            return {item["metadata"]["name"]: item for item in json.loads(listed.data).get("items") or []}

        services = self._shared.get(("services", cluster, k.namespace), list_services)
        return ServiceState.from_api(services.get(k.service))

    def app_package(self, spec: LinkSpec) -> AppPackageState:
        return observe_app_package(spec, self.web(spec), self.network(spec), self.read)

    def app_settings(self, spec: LinkSpec) -> dict[str, str]:
        return self._shared.get(
            ("appsettings", spec.app_id.lower()), lambda: super(FleetReads, self).app_settings(spec)
        )

    def regional(self, spec: LinkSpec) -> list[Any]:
        from activities.regional import regional_changes

        return regional_changes(spec, self.network(spec), self.web(spec))

    def site(self, spec: LinkSpec) -> dict[str, Any] | None:
        client = self.web(spec)
        return self.read(client.web_apps.get, spec.app.resource_group, spec.app.name)


@bp.activity_trigger(input_name="payload")
def verify_fleet(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"names", "verifiedAt", "concurrency", "final"}`` → the names by outcome: ``healthy``, ``drifted``,
    ``failed`` (recorded as such), ``remediate`` (drifted, not recorded: for ``verify_link``), ``retry``
    (a transient error, not recorded unless ``final``) with the longest ``retryAfter`` met."""
    wanted = set(payload["names"])
    try:
        store = LinkStore.from_env()
        found = {r.name: r for r in store.list_links() if r.name in wanted}
    except Exception as exc:
        return {"ok": False, "error": arm_error(exc, step=STEP).to_json()}
    reads = FleetReads()
    outcomes: dict[str, list[str]] = {k: [] for k in ("healthy", "drifted", "failed", "remediate", "retry")}
    retry_after = 0.0

    def verify(name: str) -> tuple[str, float]:
        record = found.get(name)
        if record is None:  # gone since it was listed: nothing to verify
            return "failed", 0.0
        return _verify_one(store, reads, record, payload["verifiedAt"], bool(payload.get("final")))

    with ThreadPoolExecutor(max(1, int(payload.get("concurrency") or 10)), thread_name_prefix="fleet") as pool:
        for name, (outcome, wait) in zip(payload["names"], pool.map(verify, payload["names"]), strict=True):
            outcomes[outcome].append(name)
            retry_after = max(retry_after, wait)
    return {"ok": True, "result": {**outcomes, "retryAfter": retry_after}}


def _verify_one(
    store: LinkStore, reads: FleetReads, record: LinkRecord, verified_at: str, final: bool
) -> tuple[str, float]:
    from kubelink.spec import LinkSpec  # pydantic: loaded on first use, not at cold start

    spec = LinkSpec.from_json(record.spec)
    host = record.default_host_name
    try:
        checks = labelled_checks(spec, record, reads)
        probe: ProbeOutcome | None = None
        if spec.probe:
            probe, host = _probe(spec, reads, host)
    except Exception as exc:
        error = _error(exc)
        if error.transient and not final:
            return "retry", error.retry_after or 0.0
        save_verification(store, record.name, verified_at, [], error.to_json())
        return "failed", 0.0
    records = checked_drift(record.name, verified_at, checks, probe)
    if records and spec.remediate:
        return "remediate", 0.0
    kept: dict[str, Any] = {"default_host_name": host} if host != record.default_host_name else {}
    save_verification(store, record.name, verified_at, records, **kept)
    return ("drifted" if records else "healthy"), 0.0


def _probe(spec: LinkSpec, reads: FleetReads, host: str | None) -> tuple[ProbeOutcome, str]:
    """The probe at the kept host name; when it cannot connect, the site is read and, if its host name
    changed, probed again there."""
    kept = probe_app(spec, host) if host else None
    if kept is not None and kept.status is not None:
        return kept, str(host)
    fresh = app_host(spec, reads.site(spec))
    if kept is not None and fresh == host:
        return kept, fresh
    return probe_app(spec, fresh), fresh


def _error(exc: Exception) -> KubelinkError:
    """As the per-link path reports it: the platform's error, or an activity crash's first line."""
    if isinstance(exc, KubelinkError) or is_platform_error(exc):
        return arm_error(exc, step=STEP)
    return PermanentError(
        "InternalError", str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__, step=STEP
    )
