"""Azurite from npm (pinned 3.35.0) answers the Table API that kubelink's drift records use."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError
from azure.data.tables import TableServiceClient, UpdateMode

from local.azurite import Azurite
from local.process import pid_alive


def test_table_round_trip(azurite: Azurite) -> None:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    assert f"127.0.0.1:{azurite.ports['table']}" in azurite.connection_string
    table = service.create_table_if_not_exists("worlddrift")
    table.upsert_entity({"PartitionKey": "link-a", "RowKey": "1", "field": "privateAddress", "expected": "10.0.0.4"})
    table.upsert_entity({"PartitionKey": "link-a", "RowKey": "1", "actual": "10.0.0.9"}, mode=UpdateMode.MERGE)

    entity = table.get_entity("link-a", "1")
    assert (entity["field"], entity["expected"], entity["actual"]) == ("privateAddress", "10.0.0.4", "10.0.0.9")
    assert [e["RowKey"] for e in table.query_entities("PartitionKey eq 'link-a'")] == ["1"]

    stale = entity.metadata["etag"]
    table.update_entity({"PartitionKey": "link-a", "RowKey": "1", "remediated": True})
    with pytest.raises(ResourceModifiedError):
        table.update_entity(
            {"PartitionKey": "link-a", "RowKey": "1"}, etag=stale, match_condition=MatchConditions.IfNotModified
        )
    service.delete_table("worlddrift")
    assert "worlddrift" not in [t.name for t in service.list_tables()]


def test_in_memory_azurite_writes_no_data_and_stops(tmp_path: Path) -> None:
    with Azurite(tmp_path / "logs") as memory:
        table = TableServiceClient.from_connection_string(memory.connection_string).create_table("scratch")
        table.create_entity({"PartitionKey": "p", "RowKey": "r"})
        assert memory.proc is not None
        pid = memory.proc.pid
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["azurite.log", "logs"]
    assert not pid_alive(pid)
