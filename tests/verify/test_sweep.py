"""The fleet sweep in the drift world: each link's record and conditions as a per-link verification leaves
them, shared reads (one per resource however many links), and a sweep under ARM's throttling that honours
Retry-After and fails no link."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.mgmt.web.models import StringDictionary

from local.world_client import SandboxCredential
from tests.verify.conftest import Kubelink
from tests.verify.test_drift_world import APP, GROUP, NAME, SETTING, SPEC, converge

CLONES = 12


@pytest.fixture(scope="module")
def fleet(kubelink: Kubelink) -> Iterator[list[str]]:
    """The example link and ``CLONES`` more over the same resources, converged."""
    converge(kubelink, remediate=False)
    yield [NAME, *kubelink.clone_links(NAME, CLONES)]
    kubelink.throttle(0)


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A link record as a verification leaves it, without what differs between two runs of one (times)."""
    conditions = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in record["conditions"]]
    return {
        **record,
        "name": None,
        "spec": {**record["spec"], "name": None},
        "conditions": conditions,
        "lastVerified": None,
    }


def drift_of(kubelink: Kubelink, name: str, verified_at: str) -> list[dict[str, Any]]:
    records = kubelink.get(f"/api/links/{name}/drift")["value"]
    return [{**r, "link": None, "detectedAt": None} for r in records if r["detectedAt"] == verified_at]


def set_setting(kubelink: Kubelink, value: str) -> None:
    web = kubelink.web()
    settings = dict(web.web_apps.list_application_settings(GROUP, APP).properties)
    web.web_apps.update_application_settings(GROUP, APP, StringDictionary(properties={**settings, SETTING: value}))


@pytest.mark.parametrize("broken", [False, True], ids=["healthy", "drifted"])
def test_each_link_is_left_as_a_per_link_verification_leaves_it(
    kubelink: Kubelink, fleet: list[str], broken: bool
) -> None:
    if broken:
        set_setting(kubelink, "10.9.9.9")
    kubelink.reset_requests()
    alone = kubelink.verify(NAME)
    per_link_requests = len(kubelink.arm_requests())
    expected = comparable(kubelink.get(f"/api/links/{NAME}"))
    expected_drift = drift_of(kubelink, NAME, alone["verifiedAt"])
    assert bool(expected_drift) == broken
    kubelink.reset_requests()
    swept = kubelink.sweep(concurrency=4).status
    assert swept["output"] == {
        "links": len(fleet),
        "healthy": 0 if broken else len(fleet),
        "drifted": len(fleet) if broken else 0,
        "failed": 0,
    }
    # every resource read once for the whole fleet: no more ARM requests than one link alone made
    # (less: the probe's host name is kept in the record)
    assert 0 < len(kubelink.arm_requests()) <= per_link_requests
    for name in fleet:
        record = kubelink.get(f"/api/links/{name}")
        assert comparable(record) == expected, name
        assert drift_of(kubelink, name, record["lastVerified"]) == expected_drift, name
    if broken:
        converge(kubelink, remediate=False)


def test_a_throttled_sweep_honours_retry_after_and_fails_no_link(kubelink: Kubelink, fleet: list[str]) -> None:
    kubelink.throttle(0.04)  # ARM's buckets / 25: reads 10 burst and +1 per second, writes 8 and +0.4
    vnet = f"{kubelink.arm}{SPEC.vnet_id}?api-version=2024-05-01"
    own = {"Authorization": f"Bearer {SandboxCredential(kubelink.arm, kubelink.ca_bundle, 'kubelink').token()}"}
    while kubelink.http.get(vnet, headers=own, timeout=30).status_code != 429:
        pass  # kubelink's own principal has no read left
    kubelink.reset_requests()
    swept = kubelink.sweep(concurrency=4).status
    assert swept["output"] == {"links": len(fleet), "healthy": len(fleet), "drifted": 0, "failed": 0}
    log = kubelink.arm_requests()
    throttled = [e for e in log if e["status"] == 429]
    assert throttled, "the sweep met no 429"
    for refusal in throttled:
        kind = refusal["method"] == "GET"
        wait = 1.0  # each Retry-After here is 1 s (a read refills in 1 s at this scale)
        early = [
            e
            for e in log
            if (e["method"] == "GET") == kind and refusal["time"] + 0.3 < e["time"] < refusal["time"] + wait - 0.1
        ]
        assert early == [], f"requests sent during a Retry-After: {early}"
    assert all(kubelink.get(f"/api/links/{name}")["conditions"][0]["status"] == "True" for name in fleet)
