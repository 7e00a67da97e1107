"""Link specs for the seeded sandbox world (subscription, ``kube-rg``/``kube-vnet``, ``apps-rg`` apps)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubelink.spec import LinkSpec
from tests.example import example_link

#: the example without its probe: activity tests reach the app through the SDKs, not its HTTP endpoint
BASE: dict[str, Any] = {k: v for k, v in example_link().items() if k != "probe"}
SUBSCRIPTION: str = BASE["subscriptionId"]


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


#: a link to the managed cluster through Private Link, the app in its own VNet (the seed's apps-vnet)
PRIVATE_LINK: dict[str, Any] = {
    "integration": "privateLink",
    "network": {"resourceGroup": "MC_kube-rg_kube-aks-managed_westeurope", "virtualNetwork": "aks-vnet-30511229"},
    "kubernetes": {
        "aksCluster": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/"
        "Microsoft.ContainerService/managedClusters/kube-aks-managed"
    },
    "app": {
        "virtualNetwork": {"resourceGroup": "apps-rg", "name": "apps-vnet"},
        "subnet": {"name": "apps", "prefix": "10.50.6.0/26"},
    },
    "privateLink": {"endpointSubnet": {"name": "pe", "prefix": "10.50.7.0/27"}},
}
