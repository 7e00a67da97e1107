"""Bodies and configs shared by the unit tests."""

from __future__ import annotations

from typing import Any

from tests.example import example_link

BASE: dict[str, Any] = example_link()
SUB: str = BASE["subscriptionId"]
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
