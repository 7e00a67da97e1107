"""Link specs for the seeded sandbox world (subscription, ``kube-rg``/``kube-vnet``, ``apps-rg`` apps)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubelink.spec import LinkSpec

SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"

BASE: dict[str, Any] = {
    "name": "orders-api",
    "subscriptionId": SUBSCRIPTION,
    "network": {"resourceGroup": "kube-rg", "virtualNetwork": "kube-vnet"},
    "kubernetes": {
        "namespace": "default",
        "service": "orders-internal",
        "selector": {"app": "orders"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        "loadBalancerSubnet": "ilb-subnet",
        "loadBalancerIP": "10.240.16.25",
    },
    "gateway": {"gatewaySubnetPrefix": "10.240.255.0/27", "clientAddressPool": "172.16.100.0/24"},
    "app": {"resourceGroup": "apps-rg", "name": "kubelink-demo"},
}


def spec_body(**changes: Any) -> dict[str, Any]:
    """``BASE`` with sections deep-merged from ``changes`` (a ``None`` value removes the key)."""
    return _merge(copy.deepcopy(BASE), changes)


def link_spec(**changes: Any) -> LinkSpec:
    return LinkSpec.from_json(spec_body(**changes))


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def payload(**changes: Any) -> dict[str, Any]:
    """An activity's input for the link ``BASE`` with ``changes``."""
    return {"spec": link_spec(**changes).to_json()}
