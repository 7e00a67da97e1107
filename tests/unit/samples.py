"""Bodies and configs shared by the unit tests."""

from __future__ import annotations

from typing import Any

SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
BASE: dict[str, Any] = {
    "name": "orders-api",
    "subscriptionId": SUB,
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
    "probe": {"path": "/api/privatestuff"},
}
REGIONAL: dict[str, Any] = {
    **{k: v for k, v in BASE.items() if k != "gateway"},
    "integration": "regional",
    "app": {
        "resourceGroup": "apps-rg",
        "name": "kubelink-demo",
        "subnet": {"name": "apps", "prefix": "10.240.254.0/26"},
    },
}

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: c2VjcmV0Q0E=}
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
users:
- name: u
  user: {token: super-secret-token}
"""
