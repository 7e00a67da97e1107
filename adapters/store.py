"""Link records and drift history in Azure Table storage (the ``AzureWebJobsStorage`` account; Azurite locally).

Tables:

- ``kubelinkLinks``: PartitionKey ``link``, RowKey the link name. The spec, private address, conditions,
  times, the last orchestration instances and their last output or error. Writes are read-modify-write
  under the entity's ETag, so a verification and a provisioning run finishing at once can't lose each
  other's fields, and conditions keep their transition times.
- The same table holds the event index: PartitionKey ``dependsOn-{sha256 of a resource id}``, RowKey a link
  name, one row for each top-level ARM resource the link depends on (``kubelink.events.link_dependencies``),
  so an ARM event is matched to its links by one partition query and an unrelated one costs just that.
  The link entity keeps the list (``dependencies``) so a spec change removes the rows it no longer needs.
- ``kubelinkDrift``: PartitionKey the link name, RowKey an inverted timestamp plus the record's index in its
  batch, so a partition reads newest first, and a retried write of the same verification overwrites
  instead of duplicating.

``azure.data.tables`` is imported on first use, never at cold start.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.settings import InvalidSetting
from kubelink.conditions import READY, Condition, get_condition, set_condition
from kubelink.drift import DriftRecord
from kubelink.errors import PermanentError, TransientError
from kubelink.events import link_dependencies

if TYPE_CHECKING:
    from azure.data.tables import TableClient, TableServiceClient

STORAGE_SETTING = "AzureWebJobsStorage"
LINKS_TABLE = "kubelinkLinks"
DRIFT_TABLE = "kubelinkDrift"
LINK_PARTITION = "link"
DEPENDENCY_PARTITION = "dependsOn-"
#: a torn-down link leaves a tombstone here (RowKey its name, ``removedAt``) until its drift history expires
REMOVED_PARTITION = "removed"
MAX_PROPERTY_CHARS = 30_000  # a Table string property holds 64 KiB of UTF-16: 32K characters
_WRITE_ATTEMPTS = 8
_EPOCH_MICROS_MAX = 10**17  # past year 5000: inverted keys stay positive and of fixed width


class _Keep(enum.Enum):
    KEEP = enum.auto()


KEEP = _Keep.KEEP  # "leave this field as stored", distinct from None ("clear it")


class LinkNotFound(PermanentError):
    def __init__(self, name: str) -> None:
        super().__init__("LinkNotFound", f"No link named {name!r}", resource=name)


@dataclass(frozen=True)
class LinkRecord:
    """What kubelink knows about one link; ``to_json`` is the README's link record."""

    name: str
    spec: dict[str, Any]
    private_address: str | None = None
    conditions: tuple[Condition, ...] = ()
    last_provisioned: str | None = None
    last_verified: str | None = None
    provision_instance: str | None = None
    verify_instance: str | None = None
    last_output: dict[str, Any] | None = None
    last_error: dict[str, Any] | None = None
    #: the app's ``defaultHostName``, as the sweep last read it (its probe's target; never in ``to_json``)
    default_host_name: str | None = None
    #: when the link's last provisioning or teardown run recorded its end, to the microsecond (ISO 8601): ARM events
    #: of earlier writes are that run's own or seen by it (api/events.py; never in ``to_json``)
    last_run_ended: str | None = None
    dependencies: tuple[str, ...] = ()
    #: ``kubelink.ownership.Ownership`` as JSON: what this link created, and what adopted resources were before
    ownership: dict[str, Any] | None = None
    etag: str | None = field(default=None, compare=False, repr=False)

    @property
    def ready(self) -> Condition | None:
        return get_condition(self.conditions, READY)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spec": self.spec,
            "privateAddress": self.private_address,
            "conditions": [c.to_json() for c in self.conditions],
            "lastProvisioned": self.last_provisioned,
            "lastVerified": self.last_verified,
            "ownership": self.ownership or {"created": [], "adopted": {}},
        }


# Entity property ↔ record field, for the fields stored as plain strings and as JSON.
_TEXT = {
    "privateAddress": "private_address",
    "lastProvisioned": "last_provisioned",
    "lastVerified": "last_verified",
    "provisionInstance": "provision_instance",
    "verifyInstance": "verify_instance",
    "defaultHostName": "default_host_name",
    "lastRunEnded": "last_run_ended",
}
_JSON = {"spec": "spec", "lastOutput": "last_output", "lastError": "last_error", "ownership": "ownership"}


def _record_from_entity(entity: dict[str, Any]) -> LinkRecord:
    values: dict[str, Any] = {attr: entity.get(prop) for prop, attr in _TEXT.items()}
    values.update({attr: json.loads(entity[prop]) if entity.get(prop) else None for prop, attr in _JSON.items()})
    conditions = tuple(Condition.from_json(c) for c in json.loads(entity.get("conditions") or "[]"))
    dependencies = tuple(json.loads(entity.get("dependencies") or "[]"))
    etag = getattr(entity, "metadata", {}).get("etag")
    return LinkRecord(name=entity["RowKey"], conditions=conditions, dependencies=dependencies, etag=etag, **values)


def _entity_from_record(record: LinkRecord) -> dict[str, Any]:
    entity: dict[str, Any] = {"PartitionKey": LINK_PARTITION, "RowKey": record.name}
    for prop, attr in _TEXT.items():
        if (value := getattr(record, attr)) is not None:
            entity[prop] = value
    for prop, attr in _JSON.items():
        if (value := getattr(record, attr)) is not None:
            entity[prop] = _dumps(value)
    entity["conditions"] = _dumps([c.to_json() for c in record.conditions])
    entity["dependencies"] = _dumps(list(record.dependencies))
    return entity


def _dependency_partition(resource_id: str) -> str:
    """Table keys may not hold ``/``: the partition is named by the id's hash (the id is kept in the row)."""
    return DEPENDENCY_PARTITION + hashlib.sha256(resource_id.lower().encode()).hexdigest()[:40]


def _dependencies_of(spec: dict[str, Any]) -> tuple[str, ...]:
    from kubelink.spec import LinkSpec  # pydantic: loaded on first use, not at cold start

    try:
        return link_dependencies(LinkSpec.from_json(spec))
    except (KeyError, TypeError, ValueError, AttributeError):  # a record written before its spec was complete
        return ()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _drift_row_key(record: DriftRecord, index: int) -> str:
    detected = datetime.fromisoformat(record.detected_at)
    if detected.tzinfo is None:
        detected = detected.replace(tzinfo=UTC)
    micros = int(detected.timestamp() * 1_000_000)
    return f"{_EPOCH_MICROS_MAX - micros:017d}-{index:04d}"


def _clip_json(value: Any) -> str:
    """Expected/actual as JSON, clipped to fit a Table property (a record must never fail to store)."""
    text = _dumps(value)
    return text if len(text) <= MAX_PROPERTY_CHARS else _dumps(text[: MAX_PROPERTY_CHARS - 100] + "…")


def _drift_entity(record: DriftRecord, index: int) -> dict[str, Any]:
    return {
        "PartitionKey": record.link,
        "RowKey": _drift_row_key(record, index),
        "detectedAt": record.detected_at,
        "kind": record.kind,
        "resource": record.resource,
        "field": record.field,
        "expected": _clip_json(record.expected),
        "actual": _clip_json(record.actual),
        "remediated": record.remediated,
        "restartsApp": record.restarts_app,
        **({"ownership": record.ownership} if record.ownership else {}),
    }


def _drift_from_entity(entity: dict[str, Any]) -> DriftRecord:
    """The entity holds the record's JSON, with the link as partition key and the values JSON-encoded."""
    values = {"expected": json.loads(entity["expected"]), "actual": json.loads(entity["actual"])}
    return DriftRecord.from_json({**entity, "link": entity["PartitionKey"], **values})


def storage_connection() -> str:
    """``AzureWebJobsStorage``: the account of the task hub, the link records and the leases (``adapters.lease``)."""
    connection = os.environ.get(STORAGE_SETTING, "").strip()
    if not connection:
        raise InvalidSetting(STORAGE_SETTING, "is not set: kubelink keeps its link records in that storage account")
    return connection


class LinkStore:
    """The two tables of one storage account. Thread-safe for the calls it makes; create one per process."""

    def __init__(self, service: TableServiceClient) -> None:
        self._service = service
        self._tables: dict[str, TableClient] = {}

    @staticmethod
    def from_env() -> LinkStore:
        """The store on ``AzureWebJobsStorage``: a connection string (``UseDevelopmentStorage=true`` locally), or
        the Functions identity-based connection infra/ deploys (``AzureWebJobsStorage__accountName`` or
        ``__tableServiceUri``, no keys), reached with the app's ``DefaultAzureCredential``."""
        connection = os.environ.get(STORAGE_SETTING, "").strip()
        if connection:
            return _store_for(connection)
        endpoint = os.environ.get(f"{STORAGE_SETTING}__tableServiceUri", "").strip()
        account = os.environ.get(f"{STORAGE_SETTING}__accountName", "").strip()
        if account and not endpoint:
            endpoint = f"https://{account}.table.core.windows.net"
        if not endpoint:
            raise InvalidSetting(
                STORAGE_SETTING,
                f"is not set (nor {STORAGE_SETTING}__accountName): kubelink keeps its link records in that storage "
                "account",
            )
        return _identity_store_for(endpoint)

    @staticmethod
    def from_connection_string(connection: str) -> LinkStore:
        from azure.data.tables import TableServiceClient

        return LinkStore(TableServiceClient.from_connection_string(connection))

    def _table(self, name: str) -> TableClient:
        """The table, created on first use by this store (one call when it exists already)."""
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = self._service.create_table_if_not_exists(name)
        return table

    # --- links ---------------------------------------------------------------------------------

    def get_link(self, name: str) -> LinkRecord | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return _record_from_entity(self._table(LINKS_TABLE).get_entity(LINK_PARTITION, name))
        except ResourceNotFoundError:
            return None

    def list_links(self) -> list[LinkRecord]:
        """Every link, by name."""
        entities = self._table(LINKS_TABLE).query_entities("PartitionKey eq @pk", parameters={"pk": LINK_PARTITION})
        return [_record_from_entity(e) for e in entities]

    def upsert_link(
        self,
        name: str,
        *,
        spec: dict[str, Any] | _Keep = KEEP,
        private_address: str | _Keep | None = KEEP,
        last_provisioned: str | _Keep | None = KEEP,
        last_verified: str | _Keep | None = KEEP,
        provision_instance: str | _Keep | None = KEEP,
        verify_instance: str | _Keep | None = KEEP,
        last_output: dict[str, Any] | _Keep | None = KEEP,
        last_error: dict[str, Any] | _Keep | None = KEEP,
        default_host_name: str | _Keep | None = KEEP,
        last_run_ended: str | _Keep | None = KEEP,
        ownership: dict[str, Any] | _Keep | None = KEEP,
        conditions: Sequence[Condition] = (),
        now: datetime | None = None,
    ) -> LinkRecord:
        """Create or change a link record: given fields replace stored ones, ``KEEP`` ones stay, and each of
        ``conditions`` is set with ``set_condition`` (transition time moves only when its status changes).

        A new record needs ``spec`` (else ``LinkNotFound``) and always gets a ``Ready`` condition (Unknown
        until something says otherwise). Retries on concurrent writes; returns the record as stored.
        """
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
        from azure.data.tables import UpdateMode

        now = now or datetime.now(UTC)
        changes = {
            "spec": spec,
            "private_address": private_address,
            "last_provisioned": last_provisioned,
            "last_verified": last_verified,
            "provision_instance": provision_instance,
            "verify_instance": verify_instance,
            "last_output": last_output,
            "last_error": last_error,
            "default_host_name": default_host_name,
            "last_run_ended": last_run_ended,
            "ownership": ownership,
        }
        given: dict[str, Any] = {k: v for k, v in changes.items() if v is not KEEP}
        table = self._table(LINKS_TABLE)
        if isinstance(spec, dict):
            given["dependencies"] = _dependencies_of(spec)
            self._index(name, given["dependencies"], ())
        for _ in range(_WRITE_ATTEMPTS):
            stored = self.get_link(name)
            if stored is None and not isinstance(spec, dict):
                raise LinkNotFound(name)
            base = stored or LinkRecord(name=name, spec={})
            merged = [*base.conditions]
            if stored is None and not any(c.type == READY for c in conditions):
                merged = [
                    *set_condition(merged, Condition(READY, "Unknown", "Pending", "Not provisioned yet", "Info"), now)
                ]
            for condition in conditions:
                merged = [*set_condition(merged, condition, now)]
            record = replace(base, **given, conditions=tuple(merged))
            try:
                if stored is None:
                    written = table.create_entity(_entity_from_record(record))
                else:
                    written = table.update_entity(
                        _entity_from_record(record),
                        mode=UpdateMode.REPLACE,
                        etag=stored.etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
            except (ResourceExistsError, ResourceModifiedError):
                continue  # someone else wrote in between: read again and re-apply
            if stored is not None and record.dependencies != stored.dependencies:
                self._index(name, (), tuple(set(stored.dependencies) - set(record.dependencies)))
            return replace(record, etag=written.get("etag"))
        raise TransientError("StoreContention", f"The record of link {name!r} kept changing while being written")

    # --- the event index -----------------------------------------------------------------------

    def _index(self, name: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
        """Rows are added before the link entity names them and removed after: a crash between the two
        leaves an extra row (a needless verification), never a missing one."""
        table = self._table(LINKS_TABLE)
        for resource in add:
            table.upsert_entity(
                {"PartitionKey": _dependency_partition(resource), "RowKey": name, "resourceId": resource}
            )
        for resource in remove:
            table.delete_entity(_dependency_partition(resource), name)

    def links_depending_on(self, resource_id: str) -> list[str]:
        """The names of the links whose spec names ``resource_id`` (a top-level resource id), by name."""
        rows = self._table(LINKS_TABLE).query_entities(
            "PartitionKey eq @pk", parameters={"pk": _dependency_partition(resource_id)}, select=["RowKey"]
        )
        return sorted(row["RowKey"] for row in rows)

    def remove_link(self, name: str, removed_at: str) -> None:
        """Teardown's end: the record goes, a tombstone stays so that the drift history can be found and, after
        the retention, purged (``purge_removed``). Removing a link that is gone already is fine."""
        from azure.core.exceptions import ResourceNotFoundError

        table = self._table(LINKS_TABLE)
        table.upsert_entity({"PartitionKey": REMOVED_PARTITION, "RowKey": name, "removedAt": removed_at})
        record = self.get_link(name)
        with contextlib.suppress(ResourceNotFoundError):
            table.delete_entity(LINK_PARTITION, name)
        if record is not None:  # after the entity, as in _index: a crash leaves an extra row, never a missing one
            with contextlib.suppress(ResourceNotFoundError):
                self._index(name, (), record.dependencies)

    def removed_at(self, name: str) -> str | None:
        """When the link was torn down, while its drift history is kept; None otherwise."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return str(self._table(LINKS_TABLE).get_entity(REMOVED_PARTITION, name)["removedAt"])
        except ResourceNotFoundError:
            return None

    def purge_removed(self, removed_before: str) -> list[str]:
        """Delete the drift history and tombstone of every link torn down before ``removed_before`` (ISO 8601 UTC,
        which sorts as text); the names purged. A link provisioned again since keeps its history."""
        links = self._table(LINKS_TABLE)
        expired = links.query_entities(
            "PartitionKey eq @pk and removedAt lt @before",
            parameters={"pk": REMOVED_PARTITION, "before": removed_before},
        )
        purged = []
        for tombstone in list(expired):
            name = tombstone["RowKey"]
            if self.get_link(name) is None:
                drift = self._table(DRIFT_TABLE)
                rows = drift.query_entities(
                    "PartitionKey eq @pk", parameters={"pk": name}, select=["PartitionKey", "RowKey"]
                )
                keys = [("delete", {"PartitionKey": name, "RowKey": r["RowKey"]}) for r in rows]
                for start in range(0, len(keys), 100):
                    drift.submit_transaction(keys[start : start + 100])
                purged.append(name)
            links.delete_entity(REMOVED_PARTITION, name)
        return purged

    # --- drift ---------------------------------------------------------------------------------

    def record_drift(self, records: Iterable[DriftRecord]) -> None:
        """Store drift records; those of one call and link keep their order under the same timestamp."""
        by_link: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            batch = by_link.setdefault(record.link, [])
            batch.append(_drift_entity(record, len(batch)))
        table = self._table(DRIFT_TABLE)
        for entities in by_link.values():
            for start in range(0, len(entities), 100):  # a Table transaction holds at most 100 operations
                table.submit_transaction([("upsert", e) for e in entities[start : start + 100]])

    def list_drift(self, name: str, limit: int = 100) -> list[DriftRecord]:
        """The newest ``limit`` drift records of a link, newest first."""
        entities = self._table(DRIFT_TABLE).query_entities(
            "PartitionKey eq @pk", parameters={"pk": name}, results_per_page=min(limit, 1000)
        )
        records: list[DriftRecord] = []
        for entity in entities:
            records.append(_drift_from_entity(entity))
            if len(records) >= limit:
                break
        return records


@functools.cache
def _store_for(connection: str) -> LinkStore:
    """One store (and its HTTP connections) per connection string and process."""
    return LinkStore.from_connection_string(connection)


@functools.cache
def _identity_store_for(endpoint: str) -> LinkStore:
    """One store per table endpoint and process, authenticated as the app's identity."""
    from azure.data.tables import TableServiceClient

    from adapters.clients import arm_credential

    return LinkStore(TableServiceClient(endpoint=endpoint, credential=arm_credential()))
