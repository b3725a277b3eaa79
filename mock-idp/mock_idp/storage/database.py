"""One SQLite connection per process and thread, and the transactions every table group uses."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from .schema import ADDED_COLUMNS, SCHEMA


class Database:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connection().executescript(SCHEMA)  # idempotent: IF NOT EXISTS throughout
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        with self.transaction() as db:
            for table, column, declaration in ADDED_COLUMNS:
                present = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross a fork: gunicorn forks workers after the app
        # may have touched the database, so connections are kept per process and thread.
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE ... COMMIT: one writer at a time across all workers.

        Inside another transaction of this connection, its statements join that one: they
        are committed, or rolled back, with it (several writes of one request, one commit)."""
        db = self._connection()
        if db.in_transaction:
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def query(self, sql: str, params=()) -> list[sqlite3.Row]:
        return self._connection().execute(sql, params).fetchall()

    def execute(self, sql: str, params=()) -> int:
        """Run one statement in its own transaction; returns the changed row count."""
        return self._connection().execute(sql, params).rowcount


def insert(db: sqlite3.Connection | Database, table: str, row: dict) -> None:
    """INSERT one row given as {column: value}."""
    columns = ",".join(row)
    marks = ",".join("?" for _ in row)
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
