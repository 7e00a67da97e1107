"""What activity tests share: the sandbox's control API and the orchestrator's polling, played by hand."""

from __future__ import annotations

import base64
import time
from typing import Any

from activities.gateway import observe_provisioning
from local.cluster import Cluster
from local.sandbox import SandboxServer
from local.world_client import WorldClient


class Arm(WorldClient):
    """An in-process sandbox through its control API: the ARM request log and injected faults."""

    def __init__(self, sandbox: SandboxServer) -> None:
        super().__init__(
            {"arm": sandbox.arm_url, "caBundle": str(sandbox.ca_bundle), "subscriptionId": sandbox.subscription_id}
        )
        self.sandbox = sandbox


def root_certificate(common_name: str) -> str:
    """A self-signed certificate as a gateway takes it: base64 DER (someone else's P2S root, say)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def kube_api(cluster: Cluster) -> Any:
    """A CoreV1Api on the test cluster, for arranging and inspecting what the activities did."""
    from kubernetes import client, config

    return client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig)))


def settle(payload: dict[str, Any], resource: str, timeout: float = 15) -> dict[str, Any]:
    """What the orchestrator does between durable timers: poll ``observe_provisioning`` until it settles."""
    deadline = time.monotonic() + timeout
    while True:
        observed: dict[str, Any] = observe_provisioning({**payload, "resource": resource})
        assert observed["ok"], observed
        if observed["provisioningState"] not in ("Updating", "Creating", "Deleting"):
            return observed
        assert time.monotonic() < deadline, f"{resource} still {observed['provisioningState']}"
        time.sleep(0.1)


def service_by_hand(arm: Arm) -> str:
    """A Private Link Service ``by-hand`` in the managed cluster's node resource group, without auto-approval (as
    someone makes one by hand, not AKS from a Service): its id."""
    from adapters.clients import network_client
    from local.sandbox import privatelink

    mc = "MC_kube-rg_kube-aks-managed_westeurope"
    vnet = network_client(arm.subscription_id).virtual_networks.get(mc, "aks-vnet-30511229").as_dict()
    world = arm.sandbox.world
    made = privatelink.desired_service(
        world,
        "ops",
        "by-hand",
        {privatelink.NAME_ANNOTATION: "by-hand"},
        mc,
        vnet,
        vnet["properties"]["subnets"][0]["id"],
    )
    assert not isinstance(made, str)
    with world.lock:
        world.put(made)
    return str(made["id"])
