"""One SQLite connection per process and thread, and the transactions every table group uses."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from .schema import ADDED_COLUMNS, SCHEMA

# How long a statement waits for another connection's write to end before it fails.
BUSY_SECONDS = 10.0
# Its first pause, doubled after each try up to the last.
FIRST_PAUSE, LONGEST_PAUSE = 0.0002, 0.005


class WaitingConnection(sqlite3.Connection):
    """A connection that waits for the write lock of another one by sleeping in Python.

    SQLite's own wait (``busy_timeout``) sleeps in C, from 1 ms up to 100 ms a time: under
    gunicorn's gevent worker that stops the whole worker, every connection it serves, for as
    long as a worker of the other process holds the write lock. ``time.sleep`` is gevent's
    there, so the worker serves its other connections while this one waits.

    A statement refused as busy changed nothing (SQLite undoes it whole), so it is sent
    again: the ``BEGIN IMMEDIATE`` of a transaction, or a statement in autocommit. Inside a
    transaction that holds the write lock (WAL: readers never block it) nothing is busy.
    """

    def execute(self, sql, parameters=(), /):
        return self._when_free(super().execute, sql, parameters)

    def executemany(self, sql, parameters, /):
        return self._when_free(super().executemany, sql, parameters)

    def executescript(self, script, /):
        return self._when_free(super().executescript, script)

    def _when_free(self, statement, *args):
        deadline, pause = None, FIRST_PAUSE
        while True:
            try:
                return statement(*args)
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or self.in_transaction:
                    raise
                now = time.monotonic()
                deadline = deadline or now + BUSY_SECONDS
                if now >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)


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
            # timeout=0: no wait in C (WaitingConnection waits instead).
            conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, factory=WaitingConnection)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
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
