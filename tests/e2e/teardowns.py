"""What the teardown tests share (tests/e2e/test_teardown.py, tests/e2e/test_topology.py): the world as a snapshot,
compared whole before a link and after its teardown, and a teardown checked against its plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import Kubelink
from tests.snapshots import without_etags


def world(kubelink: Kubelink) -> dict[str, Any]:
    """Everything a link could touch, without what changes on every write (etags, operations, counters)."""
    state = kubelink.sandbox_state()
    resources = {key: without_etags(body) for key, body in state["resources"].items()}
    allocations = state["extra"].get("ilb", {}).get("allocations", {})
    return {"resources": resources, "ilb": allocations, "services": services(kubelink)}


def services(kubelink: Kubelink) -> dict[str, Any]:
    """The default namespace's Services: metadata and spec, without what the apiserver bumps on every write."""
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(str(Path(kubelink.world.kubeconfig))))
    found = {}
    for service in api.list_namespaced_service("default").to_dict()["items"]:
        metadata = service["metadata"]
        if metadata["name"] == "kubernetes":
            continue
        kept = {k: metadata[k] for k in ("name", "annotations", "labels", "uid")}
        found[metadata["name"]] = {"metadata": kept, "spec": service["spec"]}
    return found


def teardown(kubelink: Kubelink, name: str, shared: bool = False) -> dict[str, Any]:
    """DELETE the link and follow its teardown; first, its plan (``POST /api/plan?teardown=``), which writes nothing
    and names exactly what the teardown then removes, restores and keeps. The run's output, with the plan's rows
    under ``plan``."""
    query = "?deleteSharedResources=true" if shared else ""
    kubelink.reset_requests()
    planned = kubelink.post(f"/api/plan?teardown={name}{'&deleteSharedResources=true' if shared else ''}")
    assert planned.status_code == 200, planned.text
    assert kubelink.arm_writes() == []
    rows = planned.json()["changes"]
    assert all(r["ownership"] == "owned" for r in rows if r["action"] == "delete"), rows
    assert all(r["ownership"] == "adopted" for r in rows if r["action"] == "restore"), rows
    output = _teardown(kubelink, name, query)
    for action, key in (("delete", "removed"), ("restore", "restored")):
        assert {r["resource"].lower() for r in rows if r["action"] == action} == {r.lower() for r in output[key]}, rows
    assert {r["resource"].lower() for r in rows if r["action"] == "keep"} == {
        k["resource"].lower() for k in output["kept"]
    }
    return {**output, "plan": rows}


def _teardown(kubelink: Kubelink, name: str, query: str) -> dict[str, Any]:
    response = kubelink.http.delete(f"{kubelink.host}/api/links/{name}{query}", timeout=60)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["id"] == f"teardown-link-{name}"
    status = kubelink.follow(body["statusQueryGetUri"], timeout=240).status
    assert status["runtimeStatus"] == "Completed", status
    output: dict[str, Any] = status["output"]
    return output


def provisioned(kubelink: Kubelink, body: dict[str, Any]) -> None:
    status, _ = kubelink.provision(body)
    assert status["runtimeStatus"] == "Completed", status


def assert_same_world(
    before: dict[str, Any], after: dict[str, Any], *, besides: frozenset[str] | set[str] = frozenset()
) -> None:
    """``after`` is ``before`` plus, at most, the resources under the ids ``besides`` (kept shared resources)."""
    added = {k for k in after["resources"] if k not in before["resources"]}
    assert {k for k in added if not any(k == b or k.startswith(b + "/") for b in besides)} == set()
    assert {k for k in before["resources"] if k not in after["resources"]} == set()
    for key, was in before["resources"].items():
        assert after["resources"][key] == was, key
    assert after["services"] == before["services"]
    assert after["ilb"] == before["ilb"]
