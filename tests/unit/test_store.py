"""LinkStore against a real Azurite (the session's, from tests/conftest.py). Link names are unique per test, so
the tests share the tables with whatever else the session stores."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from adapters.settings import InvalidSetting
from adapters.store import MAX_PROPERTY_CHARS, LinkNotFound, LinkStore
from kubelink.conditions import READY, Condition
from kubelink.drift import DriftRecord
from kubelink.spec import LinkSpec
from local.azurite import Azurite
from tests.example import example_link

T0 = datetime(2026, 1, 31, 12, 0, 0, tzinfo=UTC)
#: a whole, valid spec: the session's other suites read these records through the documented API
SPEC = example_link(name="placeholder")


@pytest.fixture(scope="module")
def store(azurite: Azurite) -> LinkStore:
    return LinkStore.from_connection_string(azurite.connection_string)


@pytest.fixture
def name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def drift(link: str, at: str, field: str, expected: object = "a", actual: object = "b") -> DriftRecord:
    return DriftRecord(link, at, "config", f"/subscriptions/x/{link}", field, expected, actual)


# --- links -------------------------------------------------------------------------------------------


def test_unknown_link_is_none(store: LinkStore, name: str) -> None:
    assert store.get_link(name) is None


def test_a_new_record_needs_a_spec_and_nothing_is_written_without_one(store: LinkStore, name: str) -> None:
    with pytest.raises(LinkNotFound):
        store.upsert_link(name, last_verified="2026-01-31T12:00:00Z")
    assert store.get_link(name) is None


def test_a_new_record_is_pending_until_told_otherwise(store: LinkStore, name: str) -> None:
    written = store.upsert_link(name, spec=SPEC, provision_instance=f"link-{name}", now=T0)
    assert written.to_json() == {
        "name": name,
        "spec": SPEC,
        "privateAddress": None,
        "conditions": [
            {
                "type": "Ready",
                "status": "Unknown",
                "severity": "Info",
                "reason": "Pending",
                "message": "Not provisioned yet",
                "lastTransitionTime": "2026-01-31T12:00:00Z",
            }
        ],
        "lastProvisioned": None,
        "lastVerified": None,
        "ownership": {"created": [], "adopted": {}},
    }
    assert store.get_link(name) == written
    assert written.provision_instance == f"link-{name}"


def test_a_given_ready_condition_replaces_the_pending_one(store: LinkStore, name: str) -> None:
    provisioning = Condition(READY, "Unknown", "Provisioning", "started", "Info")
    written = store.upsert_link(name, spec=SPEC, conditions=[provisioning], now=T0)
    assert [(c.type, c.reason) for c in written.conditions] == [(READY, "Provisioning")]


def test_transition_time_moves_only_with_the_status(store: LinkStore, name: str) -> None:
    store.upsert_link(name, spec=SPEC, now=T0)
    ready = Condition(READY, "True", "Provisioned", "ok")
    store.upsert_link(name, conditions=[ready], now=T0 + timedelta(minutes=1))
    store.upsert_link(name, conditions=[Condition(READY, "True", "Verified", "ok")], now=T0 + timedelta(minutes=2))
    record = store.get_link(name)
    assert record is not None and record.ready is not None
    assert (record.ready.reason, record.ready.last_transition_time) == ("Verified", "2026-01-31T12:01:00Z")
    drifted = Condition(READY, "False", "Drifted", "app setting", "Error")
    record = store.upsert_link(name, conditions=[drifted], now=T0 + timedelta(minutes=3))
    assert record.ready is not None and record.ready.last_transition_time == "2026-01-31T12:03:00Z"


def test_given_fields_replace_kept_fields_stay_none_clears(store: LinkStore, name: str) -> None:
    output = {"name": name, "privateAddress": "10.0.0.7", "steps": {"service": "created"}}
    store.upsert_link(
        name,
        spec=SPEC,
        private_address="10.0.0.7",
        last_provisioned="2026-01-31T12:00:00Z",
        last_output=output,
        last_error={"code": "X", "message": "earlier failure"},
    )
    store.upsert_link(name, last_verified="2026-01-31T12:15:00Z", last_error=None)
    record = store.get_link(name)
    assert record is not None
    assert (record.private_address, record.last_provisioned, record.last_verified) == (
        "10.0.0.7",
        "2026-01-31T12:00:00Z",
        "2026-01-31T12:15:00Z",
    )
    assert record.last_output == output
    assert record.last_error is None
    assert record.spec == SPEC


def test_a_runs_end_keeps_its_microseconds_and_stays_out_of_the_api(store: LinkStore, name: str) -> None:
    ended = "2026-01-31T12:00:00.123456+00:00"  # finer than lastProvisioned: ARM events are told apart by it
    store.upsert_link(name, spec=SPEC, last_provisioned="2026-01-31T12:00:00Z", last_run_ended=ended)
    store.upsert_link(name, last_verified="2026-01-31T12:15:00Z")
    record = store.get_link(name)
    assert record is not None and record.last_run_ended == ended
    assert ended not in str(record.to_json())


def test_concurrent_writers_lose_nothing(store: LinkStore, name: str) -> None:
    store.upsert_link(name, spec=SPEC)
    types = [f"Check{i}" for i in range(6)]

    def write(type_: str) -> None:
        store.upsert_link(name, conditions=[Condition(type_, "True", "Ok")])

    with ThreadPoolExecutor(len(types)) as pool:
        list(pool.map(write, types))
    record = store.get_link(name)
    assert record is not None
    assert {c.type for c in record.conditions} == {READY, *types}


def test_list_links_has_every_record_by_name(store: LinkStore) -> None:
    prefix = f"l-{uuid.uuid4().hex[:8]}"
    for suffix in ("b", "a", "c"):
        store.upsert_link(f"{prefix}-{suffix}", spec=SPEC)
    mine = [r.name for r in store.list_links() if r.name.startswith(prefix)]
    assert mine == [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]


# --- drift -------------------------------------------------------------------------------------------


def test_drift_reads_newest_first_and_keeps_batch_order(store: LinkStore, name: str) -> None:
    store.record_drift([drift(name, "2026-01-31T12:00:00Z", "a"), drift(name, "2026-01-31T12:00:00Z", "b")])
    store.record_drift([drift(name, "2026-01-31T12:15:00Z", "c")])
    store.record_drift([drift(name, "2026-01-31T11:45:00+00:00", "old")])
    assert [r.field for r in store.list_drift(name)] == ["c", "a", "b", "old"]


def test_drift_round_trips_json_values(store: LinkStore, name: str) -> None:
    record = DriftRecord(name, "2026-01-31T12:00:00Z", "connectivity", "https://app/api", "status", 200, None, True)
    store.record_drift([record])
    assert store.list_drift(name) == [record]


def test_a_retried_write_of_the_same_verification_does_not_duplicate(store: LinkStore, name: str) -> None:
    batch = [drift(name, "2026-01-31T12:00:00Z", "a"), drift(name, "2026-01-31T12:00:00Z", "b")]
    store.record_drift(batch)
    store.record_drift(batch)
    assert len(store.list_drift(name)) == 2


def test_many_records_and_links_in_one_call(store: LinkStore, name: str) -> None:
    other = f"{name}-2"
    store.record_drift(
        [drift(name, "2026-01-31T12:00:00Z", f"f{i:03d}") for i in range(150)]
        + [drift(other, "2026-01-31T12:00:00Z", "x")]
    )
    fields = [r.field for r in store.list_drift(name, limit=1000)]
    assert fields == [f"f{i:03d}" for i in range(150)]
    assert [r.field for r in store.list_drift(name, limit=5)] == ["f000", "f001", "f002", "f003", "f004"]
    assert [r.link for r in store.list_drift(other)] == [other]


def test_huge_values_are_clipped_not_refused(store: LinkStore, name: str) -> None:
    store.record_drift([drift(name, "2026-01-31T12:00:00Z", "cert", expected="x" * 100_000)])
    (stored,) = store.list_drift(name)
    assert isinstance(stored.expected, str)
    assert stored.expected.endswith("…") and len(stored.expected) < MAX_PROPERTY_CHARS


def test_no_drift_is_an_empty_list(store: LinkStore, name: str) -> None:
    assert store.list_drift(name) == []


# --- connection ---------------------------------------------------------------------------------------


def test_from_env_needs_the_storage_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    with pytest.raises(InvalidSetting, match="AzureWebJobsStorage is not set"):
        LinkStore.from_env()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("AzureWebJobsStorage__accountName", "kubelinkstore"),
        ("AzureWebJobsStorage__tableServiceUri", "https://kubelinkstore.table.core.windows.net"),
    ],
)
def test_identity_based_storage_uses_the_apps_credential_and_no_key(
    setting: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """infra/ deploys the identity-based connection (no account key anywhere)."""
    from adapters.clients import arm_credential

    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.setenv(setting, value)
    store = LinkStore.from_env()
    assert store._service.url.startswith("https://kubelinkstore.table.core.windows.net")
    assert store._service.credential is arm_credential()


def test_development_storage_means_local_azurite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    store = LinkStore.from_env()
    assert store._service.url.startswith("http://127.0.0.1:10002/devstoreaccount1")
    assert LinkStore.from_env() is store  # one client per process and connection string


def test_from_env_with_an_explicit_connection_string(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    LinkStore.from_env().upsert_link(name, spec=SPEC)
    assert LinkStore.from_connection_string(azurite.connection_string).get_link(name) is not None


# --- the event index ---------------------------------------------------------------------------------


def test_the_event_index_follows_the_spec(store: LinkStore, name: str) -> None:
    from tests.example import example_link

    spec = example_link(name=name)
    spec["app"] = {**spec["app"], "name": f"app-{name}"}  # an app of this test alone
    store.upsert_link(name, spec=spec)
    app = f"/subscriptions/{spec['subscriptionId']}/resourceGroups/apps-rg/providers/Microsoft.Web/sites/app-{name}"
    vnet = LinkSpec.from_json(spec).vnet_id
    assert store.links_depending_on(app.upper()) == [name]  # ARM ids are case-insensitive
    assert name in store.links_depending_on(vnet)  # shared with every other link on that VNet
    assert store.links_depending_on(app + "-other") == []
    moved = {**spec, "app": {**spec["app"], "name": f"moved-{name}"}}
    store.upsert_link(name, spec=moved, conditions=[Condition(READY, "True", "Verified", "ok")])
    assert store.links_depending_on(app) == []
    assert store.links_depending_on(app.replace(f"app-{name}", f"moved-{name}")) == [name]
    record = store.get_link(name)
    assert record is not None and app.replace(f"app-{name}", f"moved-{name}").lower() in record.dependencies


# --- teardown: the record goes, the drift history stays for the retention ----------------------------


def test_a_removed_link_keeps_its_drift_until_the_retention_passes(store: LinkStore, name: str) -> None:
    store.upsert_link(name, spec=SPEC, ownership={"created": ["/x/GatewaySubnet"], "adopted": {}})
    store.record_drift([drift(name, "2026-01-31T12:00:00Z", "a")])
    dependencies = store.get_link(name).dependencies  # type: ignore[union-attr]
    store.remove_link(name, "2026-02-01T00:00:00Z")
    store.remove_link(name, "2026-02-01T00:00:00Z")  # a second teardown does no harm
    assert store.get_link(name) is None
    assert all(name not in store.links_depending_on(d) for d in dependencies)  # events for it start nothing
    assert name not in {r.name for r in store.list_links()}
    assert store.removed_at(name) == "2026-02-01T00:00:00Z"
    assert [r.field for r in store.list_drift(name)] == ["a"]

    assert name not in store.purge_removed("2026-02-01T00:00:00Z")  # not older than the cutoff yet
    assert [r.field for r in store.list_drift(name)] == ["a"]
    assert name in store.purge_removed("2026-03-01T00:00:00Z")
    assert store.list_drift(name) == [] and store.removed_at(name) is None


def test_a_link_provisioned_again_keeps_its_history_when_its_tombstone_expires(store: LinkStore, name: str) -> None:
    store.upsert_link(name, spec=SPEC)
    store.record_drift([drift(name, "2026-01-31T12:00:00Z", "a")])
    store.remove_link(name, "2026-02-01T00:00:00Z")
    store.upsert_link(name, spec=SPEC)
    assert store.purge_removed("2026-03-01T00:00:00Z") == []
    assert [r.field for r in store.list_drift(name)] == ["a"]
    assert store.removed_at(name) is None
