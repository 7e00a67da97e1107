"""SQLite task hub: instances, history, queued messages and activity work items under the state folder.

Each orchestration episode and each activity result is committed in one transaction, so a host killed at
any point restarts from the last commit: unconsumed messages replay the episode, and activity work items
without a result run again (at-least-once, as with Azure Storage queues).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from local.host import history as h

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    parent TEXT
);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    visible_at TEXT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (visible_at);
CREATE TABLE IF NOT EXISTS work_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT
);
CREATE TABLE IF NOT EXISTS timer_status (
    function TEXT PRIMARY KEY,
    last TEXT NOT NULL,
    next TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
"""

RUNNING_STATES = ("Pending", "Running", "Suspended")
TERMINAL_STATES = ("Completed", "Failed", "Terminated", "Canceled")


class InstanceExists(Exception):
    """DTFx ``OrchestrationAlreadyExistsException`` (an id that is Pending/Running/Suspended)."""


@dataclass(frozen=True)
class Instance:
    instance_id: str
    name: str
    execution_id: str
    status: str
    input: str | None
    output: str | None
    custom_status: str | None
    created: str
    updated: str
    parent: dict[str, Any] | None


@dataclass(frozen=True)
class Message:
    id: int
    instance_id: str
    execution_id: str
    event: dict[str, Any]


@dataclass(frozen=True)
class WorkItem:
    id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


@dataclass
class EpisodeCommit:
    """Everything one episode changes, applied atomically."""

    instance_id: str
    consumed: list[int]
    history: list[dict[str, Any]]
    replace_history: bool
    status: str
    output: str | None
    custom_status: str | None
    updated: datetime
    execution_id: str | None = None
    input: str | None = None
    work_items: list[tuple[int, str, str | None]] | None = None
    messages: list[tuple[str, str, datetime, dict[str, Any]]] | None = None
    children: list[tuple[str, str, str, str | None, dict[str, Any]]] | None = None


@dataclass(frozen=True)
class Query:
    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: Sequence[str] = ()
    prefix: str | None = None


class Store:
    """One connection guarded by a lock: episodes and activity results are small, so contention is moot."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(state_dir / "taskhub.sqlite3", check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- instances -----------------------------------------------------------------------------

    def create_instance(
        self,
        *,
        name: str,
        instance_id: str,
        execution_id: str,
        input_json: str | None,
        now: datetime,
        parent: dict[str, Any] | None = None,
        overwrite_running: bool = False,
    ) -> None:
        """Start a new execution: Pending row, fresh history, and an ExecutionStarted message."""
        started = h.stamp(h.execution_started(name, instance_id, execution_id, input_json, parent), now)
        with self._tx() as db:
            self._create(db, name, instance_id, execution_id, input_json, now, parent, started, overwrite_running)

    def _create(
        self,
        db: sqlite3.Connection,
        name: str,
        instance_id: str,
        execution_id: str,
        input_json: str | None,
        now: datetime,
        parent: dict[str, Any] | None,
        started: dict[str, Any],
        overwrite_running: bool,
    ) -> None:
        row = db.execute("SELECT status FROM instances WHERE instance_id = ?", (instance_id,)).fetchone()
        if row is not None and row[0] in RUNNING_STATES and not overwrite_running:
            raise InstanceExists(instance_id)
        stamp = h.format_time(now)
        db.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))
        db.execute("DELETE FROM messages WHERE instance_id = ?", (instance_id,))
        db.execute("DELETE FROM work_items WHERE instance_id = ?", (instance_id,))
        db.execute(
            "INSERT OR REPLACE INTO instances VALUES (?, ?, ?, 'Pending', ?, NULL, NULL, ?, ?, ?)",
            (instance_id, name, execution_id, input_json, stamp, stamp, json.dumps(parent) if parent else None),
        )
        db.execute(
            "INSERT INTO messages (instance_id, execution_id, visible_at, event) VALUES (?, ?, ?, ?)",
            (instance_id, execution_id, stamp, json.dumps(started)),
        )

    def get_instance(self, instance_id: str) -> Instance | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM instances WHERE instance_id = ?", (instance_id,)).fetchone()
        return _instance(row) if row else None

    def query(self, query: Query) -> list[Instance]:
        sql, args = "SELECT * FROM instances WHERE 1=1", list[Any]()
        if query.created_from is not None:
            sql += " AND created >= ?"
            args.append(h.format_time(query.created_from))
        if query.created_to is not None:
            sql += " AND created <= ?"
            args.append(h.format_time(query.created_to))
        if query.statuses:
            sql += f" AND status IN ({','.join('?' * len(query.statuses))})"
            args.extend(query.statuses)
        if query.prefix:
            sql += " AND substr(instance_id, 1, ?) = ?"
            args.extend([len(query.prefix), query.prefix])
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created, instance_id", args).fetchall()
        return [_instance(row) for row in rows]

    def purge(self, instance_ids: Sequence[str]) -> int:
        with self._tx() as db:
            for table in ("instances", "history", "messages", "work_items"):
                db.executemany(f"DELETE FROM {table} WHERE instance_id = ?", [(i,) for i in instance_ids])
        return len(instance_ids)

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    # --- messages ------------------------------------------------------------------------------

    def send(self, instance_id: str, execution_id: str, event: dict[str, Any], visible_at: datetime) -> None:
        with self._tx() as db:
            _send(db, instance_id, execution_id, visible_at, event)

    def ready_instance(self, now: datetime, skip: set[str]) -> str | None:
        """An instance with a due message (oldest first), not currently being processed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT instance_id FROM messages WHERE visible_at <= ? GROUP BY instance_id ORDER BY MIN(id)",
                (h.format_time(now),),
            ).fetchall()
        return next((row[0] for row in rows if row[0] not in skip), None)

    def ready_messages(self, instance_id: str, now: datetime) -> list[Message]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, instance_id, execution_id, event FROM messages WHERE instance_id = ? AND visible_at <= ? "
                "ORDER BY id",
                (instance_id, h.format_time(now)),
            ).fetchall()
        return [Message(row[0], row[1], row[2], json.loads(row[3])) for row in rows]

    def next_due(self) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(visible_at) FROM messages").fetchone()
        return h.parse_time(row[0]) if row and row[0] else None

    def drop_messages(self, ids: Sequence[int]) -> None:
        with self._tx() as db:
            db.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])

    # --- episodes ------------------------------------------------------------------------------

    def commit_episode(self, commit: EpisodeCommit) -> None:
        iid = commit.instance_id
        with self._tx() as db:
            db.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in commit.consumed])
            if commit.replace_history:
                db.execute("DELETE FROM history WHERE instance_id = ?", (iid,))
                db.execute("DELETE FROM work_items WHERE instance_id = ?", (iid,))
            start = db.execute("SELECT COUNT(*) FROM history WHERE instance_id = ?", (iid,)).fetchone()[0]
            db.executemany(
                "INSERT INTO history VALUES (?, ?, ?)",
                [(iid, start + n, json.dumps(event)) for n, event in enumerate(commit.history)],
            )
            db.execute(
                "UPDATE instances SET status = ?, output = ?, custom_status = ?, updated = ?, "
                "execution_id = COALESCE(?, execution_id), input = CASE WHEN ? THEN ? ELSE input END "
                "WHERE instance_id = ?",
                (
                    commit.status,
                    commit.output,
                    commit.custom_status,
                    h.format_time(commit.updated),
                    commit.execution_id,
                    commit.execution_id is not None,
                    commit.input,
                    iid,
                ),
            )
            current = db.execute("SELECT execution_id FROM instances WHERE instance_id = ?", (iid,)).fetchone()[0]
            db.executemany(
                "INSERT INTO work_items (instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?)",
                [(iid, current, task_id, name, input_) for task_id, name, input_ in commit.work_items or []],
            )
            for target, execution_id, visible_at, event in commit.messages or []:
                _send(db, target, execution_id, visible_at, event)
            for name, child_id, execution_id, input_json, parent in commit.children or []:
                started = h.stamp(h.execution_started(name, child_id, execution_id, input_json, parent), commit.updated)
                self._create(db, name, child_id, execution_id, input_json, commit.updated, parent, started, True)

    # --- activities ----------------------------------------------------------------------------

    def work_items(self) -> list[WorkItem]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM work_items ORDER BY id").fetchall()
        return [WorkItem(*row) for row in rows]

    def finish_work_item(self, item: WorkItem, event: dict[str, Any], now: datetime) -> None:
        """Delete the work item and queue its result in one step (no result is lost or duplicated)."""
        with self._tx() as db:
            deleted = db.execute("DELETE FROM work_items WHERE id = ?", (item.id,)).rowcount
            if deleted:
                _send(db, item.instance_id, item.execution_id, now, h.stamp(event, now))

    # --- timer trigger schedule monitor -------------------------------------------------------

    def timer_status(self, function: str) -> tuple[str, str, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT last, next, last_updated FROM timer_status WHERE function = ?", (function,)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def set_timer_status(self, function: str, last: str, next_: str, last_updated: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO timer_status VALUES (?, ?, ?, ?)", (function, last, next_, last_updated))


def _send(
    db: sqlite3.Connection, instance_id: str, execution_id: str, visible_at: datetime, event: dict[str, Any]
) -> None:
    db.execute(
        "INSERT INTO messages (instance_id, execution_id, visible_at, event) VALUES (?, ?, ?, ?)",
        (instance_id, execution_id, h.format_time(visible_at), json.dumps(event)),
    )


def _instance(row: tuple[Any, ...]) -> Instance:
    fields = [*list(row[:9]), json.loads(row[9]) if row[9] else None]
    return Instance(*fields)
