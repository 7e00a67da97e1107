"""The cloud's internal load balancer controller: gives internal ``LoadBalancer`` Services a VNet IP.

It plays the part of cloud-provider-azure's service controller against a real kube-apiserver: each Service of
type ``LoadBalancer`` annotated ``azure-load-balancer-internal: "true"`` gets, after a configurable delay, a
private IP from the annotated subnet (``…-internal-subnet``, a subnet *name* in the cluster's VNet) or else the
cluster's own subnet; ``…-ipv4`` pins an address when it lies in that subnet and is free, otherwise the Service
stays pending with a Warning event, as Azure's does. Deleting the Service releases the address.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from kubernetes import client, config, watch

from . import ids, ipam, privatelink
from .state import Json, SandboxState

log = logging.getLogger("local.sandbox.ilb")

INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal"
SUBNET = "service.beta.kubernetes.io/azure-load-balancer-internal-subnet"
IPV4 = "service.beta.kubernetes.io/azure-load-balancer-ipv4"
#: The one local apiserver plays every seeded cluster: a Service belongs to the cluster named by this label on its
#: namespace, else to the first seeded cluster (``kube-aks``). A sandbox device, not an AKS label.
CLUSTER_LABEL = "sandbox.kubelink.local/cluster"
#: Azure CNI keeps (maxPods + 1) addresses per node in the cluster subnet, so ILB IPs come after them.
MAX_PODS = 30


def allocations(world: SandboxState) -> dict[str, Json]:
    """``namespace/name`` → ``{namespace, service, uid, ip, subnetId, published}``."""
    result: dict[str, Json] = world.extra.setdefault("ilb", {}).setdefault("allocations", {})
    return result


def publish(world: SandboxState, namespace: str, service: str, uid: str, ip: str, subnet_id: str) -> None:
    """Record that ``ip`` is a live internal load-balancer frontend for a Service (what the web apps reach)."""
    allocations(world)[f"{namespace}/{service}"] = {
        "namespace": namespace,
        "service": service,
        "uid": uid,
        "ip": ip,
        "subnetId": subnet_id,
        "published": True,
    }


def release(world: SandboxState, namespace: str, service: str) -> None:
    allocations(world).pop(f"{namespace}/{service}", None)


def cluster_named(world: SandboxState, cluster_name: str | None) -> Json:
    """A seeded AKS cluster (the first one unless named)."""
    clusters = list(world.of_type(ids.CLUSTER_TYPE))
    return next((c for c in clusters if c["name"].lower() == (cluster_name or "").lower()), clusters[0])


def cluster_subnet(world: SandboxState, cluster_name: str | None = None) -> tuple[Json, Json, int]:
    """A seeded AKS cluster's node subnet, its VNet, and its node count (the first cluster unless named)."""
    cluster = cluster_named(world, cluster_name)
    pool = cluster["properties"]["agentPoolProfiles"][0]
    subnet = world.get(pool["vnetSubnetID"])
    assert subnet is not None, "the cluster's subnet is missing from the world"
    vnet = world.get(ids.parse(subnet["id"]).parent())  # type: ignore[union-attr]
    assert vnet is not None
    return subnet, vnet, int(pool.get("count", 1))


@dataclass(frozen=True)
class Decision:
    """What the controller concluded for one Service: an address, or why it stays pending."""

    ip: str | None
    subnet_id: str | None
    warning: str | None = None


def decide(world: SandboxState, service: Json, cluster_name: str | None = None) -> Decision:
    """Choose the frontend IP for an internal Service (pure with respect to the world it reads)."""
    meta = service["metadata"]
    annotations = meta.get("annotations") or {}
    key = f"{meta['namespace']}/{meta['name']}"
    node_subnet, vnet, nodes = cluster_subnet(world, cluster_name)
    subnet = node_subnet
    wanted_subnet = annotations.get(SUBNET)
    if wanted_subnet:
        found = world.get(f"{vnet['id']}/subnets/{wanted_subnet}")
        if found is None:
            return Decision(None, None, f"subnet {wanted_subnet} was not found in virtual network {vnet['name']}")
        subnet = found
    if subnet["name"] in (ids.GATEWAY_SUBNET,) or subnet["properties"].get("delegations"):
        return Decision(None, None, f"subnet {subnet['name']} cannot host an internal load balancer")
    prefix = ipam.parse_cidr(subnet["properties"].get("addressPrefix") or subnet["properties"]["addressPrefixes"][0])
    taken = {a["ip"] for k, a in allocations(world).items() if k != key}
    reserved = _node_addresses(prefix, nodes) if subnet is node_subnet else set()
    wanted_ip = annotations.get(IPV4) or (service.get("spec") or {}).get("loadBalancerIP")
    if wanted_ip:
        if not ipam.is_usable(prefix, wanted_ip):
            return Decision(None, None, f"IP {wanted_ip} is not a usable address of subnet {subnet['name']} ({prefix})")
        if wanted_ip in taken or wanted_ip in reserved:
            return Decision(None, None, f"IP {wanted_ip} in subnet {subnet['name']} is already in use")
        return Decision(wanted_ip, subnet["id"])
    for address in ipam.usable_hosts(prefix):
        if str(address) not in taken and str(address) not in reserved:
            return Decision(str(address), subnet["id"])
    return Decision(None, None, f"subnet {subnet['name']} has no free address")


def _node_addresses(prefix: ipam.IPv4Net, nodes: int) -> set[str]:
    hosts = ipam.usable_hosts(prefix)
    return {str(next(hosts)) for _ in range(min(nodes * (MAX_PODS + 1), prefix.num_addresses - 5))}


def is_internal_lb(service: Json) -> bool:
    annotations = service["metadata"].get("annotations") or {}
    return (service.get("spec") or {}).get("type") == "LoadBalancer" and annotations.get(INTERNAL) == "true"


class IlbController:
    """Watches Services on the apiserver of ``kubeconfig`` and reconciles their load-balancer status."""

    def __init__(self, world: SandboxState, kubeconfig: Path, delay: float, namespace: str | None = None) -> None:
        self.world = world
        self.delay = delay
        self.namespace = namespace
        self.api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig), persist_config=False))
        self._events: queue.Queue[tuple[str, Json]] = queue.Queue()
        self._stop = threading.Event()
        self._first_seen: dict[str, float] = {}
        self._services: dict[str, Json] = {}
        self._warned: set[tuple[str, str]] = set()
        self._clusters: dict[str, str | None] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for name, target in (("ilb-watch", self._watch), ("ilb-reconcile", self._reconcile_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    # --- watching ----------------------------------------------------------------------------------------

    def _list(self) -> tuple[list[Json], str]:
        if self.namespace:
            raw = self.api.list_namespaced_service(self.namespace, _preload_content=False)
        else:
            raw = self.api.list_service_for_all_namespaces(_preload_content=False)
        body = _json(raw)
        return body["items"], body["metadata"]["resourceVersion"]

    def _watch(self) -> None:
        """List, then watch from that version; on any error start over (Services are re-read, not lost)."""
        while not self._stop.is_set():
            try:
                items, version = self._list()
                self._events.put(("SYNC", {"items": items}))
                while not self._stop.is_set():
                    stream = watch.Watch().stream(
                        self.api.list_namespaced_service
                        if self.namespace
                        else self.api.list_service_for_all_namespaces,
                        *([self.namespace] if self.namespace else []),
                        resource_version=version,
                        timeout_seconds=1,
                        _request_timeout=5,
                    )
                    for event in stream:
                        raw = event["raw_object"]
                        version = raw["metadata"]["resourceVersion"]
                        self._events.put((event["type"], raw))
                        if self._stop.is_set():
                            break
            except Exception as exc:  # the apiserver restarting or a 410 Gone: re-list
                if not self._stop.is_set():
                    log.info("service watch restarts after %s", exc)
                    self._stop.wait(0.5)

    # --- reconciling -------------------------------------------------------------------------------------

    def _reconcile_loop(self) -> None:
        while not self._stop.is_set():
            try:
                kind, obj = self._events.get(timeout=0.1)
            except queue.Empty:
                kind, obj = "", {}
            try:
                if kind == "SYNC":
                    self._sync(obj["items"])
                elif kind == "DELETED":
                    self._forget(obj)
                elif kind in ("ADDED", "MODIFIED"):
                    self._services[_key(obj)] = obj
                self._reconcile_due()
            except Exception:
                log.exception("ILB reconcile failed")

    def _sync(self, items: list[Json]) -> None:
        present = {_key(s) for s in items}
        for gone in [k for k in self._services if k not in present]:
            self._forget(self._services[gone])
        with self.world.lock:
            for k, allocation in list(allocations(self.world).items()):
                if k not in present and (self.namespace is None or allocation["namespace"] == self.namespace):
                    release(self.world, allocation["namespace"], allocation["service"])
            self.world.save()
        for service in items:
            self._services[_key(service)] = service

    def _forget(self, service: Json) -> None:
        key = _key(service)
        self._services.pop(key, None)
        self._first_seen.pop(key, None)
        with self.world.lock:
            release(self.world, service["metadata"]["namespace"], service["metadata"]["name"])
            privatelink.remove_services_of(self.world, service["metadata"]["namespace"], service["metadata"]["name"])
            self.world.save()

    def _reconcile_due(self) -> None:
        now = time.time()
        for key, service in list(self._services.items()):
            if not is_internal_lb(service):
                self._first_seen.pop(key, None)
                with self.world.lock:
                    if key in allocations(self.world):
                        meta = service["metadata"]
                        release(self.world, meta["namespace"], meta["name"])
                        privatelink.remove_services_of(self.world, meta["namespace"], meta["name"])
                        self.world.save()
                continue
            if key not in self._first_seen:
                self._first_seen[key] = now
                self._event(service, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer")
            if now - self._first_seen[key] >= self.delay:
                self._ensure(service)

    def _cluster_of(self, namespace: str) -> str | None:
        """Which seeded cluster a namespace belongs to (its ``CLUSTER_LABEL``), read once per namespace."""
        if namespace not in self._clusters:
            body = _json(self.api.read_namespace(namespace, _preload_content=False))
            self._clusters[namespace] = (body["metadata"].get("labels") or {}).get(CLUSTER_LABEL)
        return self._clusters[namespace]

    def _ensure(self, service: Json) -> None:
        meta = service["metadata"]
        cluster_name = self._cluster_of(meta["namespace"])
        with self.world.lock:
            decision = decide(self.world, service, cluster_name)
            current = allocations(self.world).get(_key(service))
            if decision.ip is None:
                if current is not None:
                    release(self.world, meta["namespace"], meta["name"])
                    self.world.save()
            elif current is None or (current["ip"], current["subnetId"]) != (decision.ip, decision.subnet_id):
                publish(self.world, meta["namespace"], meta["name"], meta["uid"], decision.ip, str(decision.subnet_id))
                self.world.save()
            pls_warning = self._private_link(service, cluster_name, decision)
        for warning in (decision.warning, pls_warning):
            if not warning:
                continue
            self._event(
                service,
                "Warning",
                "SyncLoadBalancerFailed",
                f"Error syncing load balancer: failed to ensure load balancer: {warning}",
            )
        ingress = [{"ip": decision.ip}] if decision.ip else []
        if ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress", []) != ingress:
            patched = self.api.patch_namespaced_service_status(
                meta["name"],
                meta["namespace"],
                {"status": {"loadBalancer": {"ingress": ingress}}},
                _preload_content=False,
            )
            self._services[_key(service)] = _json(patched)
            if decision.ip:
                self._event(service, "Normal", "EnsuredLoadBalancer", "Ensured load balancer")

    def _private_link(self, service: Json, cluster_name: str | None, decision: Decision) -> str | None:
        """The Private Link Service ``azure-pls-create`` asks for, in the cluster's node resource group, once the
        Service has its frontend IP (call with the world locked); its removal when the annotation goes."""
        meta = service["metadata"]
        annotations = meta.get("annotations") or {}
        if annotations.get(privatelink.CREATE) != "true" or decision.ip is None or decision.subnet_id is None:
            privatelink.remove_services_of(self.world, meta["namespace"], meta["name"])
            return None
        cluster = cluster_named(self.world, cluster_name)
        _, vnet, _ = cluster_subnet(self.world, cluster_name)
        node_group = cluster["properties"]["nodeResourceGroup"]
        desired = privatelink.desired_service(
            self.world, meta["namespace"], meta["name"], annotations, node_group, vnet, decision.subnet_id
        )
        if isinstance(desired, str):
            return f"failed to ensure private link service: {desired}"
        existing = self.world.get(desired["id"])
        if existing is None or {**existing, "etag": ""} != {**desired, "etag": ""}:
            self.world.put(desired)
            self.world.save()
        return None

    def _event(self, service: Json, kind: str, reason: str, message: str) -> None:
        """One core/v1 Event per distinct (Service, reason, message), like the service controller's recorder."""
        meta = service["metadata"]
        if (meta["uid"], reason + message) in self._warned:
            return
        self._warned.add((meta["uid"], reason + message))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Service",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": kind,
            "source": {"component": "service-controller"},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            self.api.create_namespaced_event(meta["namespace"], cast(Any, body), _preload_content=False)
        except Exception as exc:
            log.info("could not record event %s for %s: %s", reason, meta["name"], exc)


def _json(raw: object) -> Json:
    """The body of a ``_preload_content=False`` answer (raw JSON, no pydantic models to trip over)."""
    result: Json = json.loads(cast(Any, raw).data)
    return result


def _key(service: Json) -> str:
    return f"{service['metadata']['namespace']}/{service['metadata']['name']}"
