"""Contacts, per user, in SQLite (seeded from contacts.yaml on first start), answered from memory.

Each process keeps every contact in memory, read from the database once, and writes a new
contact to the database before it answers (so it survives a restart). The workers share
the database, not their memory: before answering from memory a process asks SQLite whether
any connection has written since its last read (``PRAGMA data_version``, no table read),
and reads the contacts again only then. That check is made on one connection per process,
so that every write, by this process or another, moves what it answers.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import yaml

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_owner ON contacts (owner);
CREATE TABLE IF NOT EXISTS seeded (done INTEGER PRIMARY KEY);
"""


class ContactBook:
    def __init__(self, path: Path, seed_file: Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._by_owner: dict[str, list[dict]] = {}
        self._read_at: tuple | None = None  # (pid, data_version) of the last read
        self._reader: tuple[int, sqlite3.Connection] | None = None  # (pid, connection)
        self._reading = threading.Lock()
        db = self._db()
        db.executescript(SCHEMA)
        db.execute("BEGIN IMMEDIATE")
        if not db.execute("SELECT 1 FROM seeded").fetchone():
            seed = yaml.safe_load(Path(seed_file).read_text()) or {}
            for owner, contacts in seed.items():
                db.executemany(
                    "INSERT INTO contacts (owner, name, email) VALUES (?, ?, ?)",
                    [(owner, c["name"], c["email"]) for c in contacts],
                )
            db.execute("INSERT INTO seeded (done) VALUES (1)")
        db.execute("COMMIT")

    def _db(self) -> sqlite3.Connection:
        # One connection per thread and process: gunicorn forks after the seed ran.
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.row_factory = sqlite3.Row
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def of(self, owner: str) -> list[dict]:
        with self._reading:
            db = self._reader_db()
            seen = (os.getpid(), db.execute("PRAGMA data_version").fetchone()[0])
            if seen != self._read_at:
                self._read_all(db, seen)
            return [dict(contact) for contact in self._by_owner.get(owner, ())]

    def add(self, owner: str, name: str, email: str) -> dict:
        self._db().execute("INSERT INTO contacts (owner, name, email) VALUES (?, ?, ?)", (owner, name, email))
        return {"name": name, "email": email}

    def _reader_db(self) -> sqlite3.Connection:
        if self._reader is None or self._reader[0] != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            self._reader = (os.getpid(), conn)
        return self._reader[1]

    def _read_all(self, db: sqlite3.Connection, seen: tuple) -> None:
        by_owner: dict[str, list[dict]] = {}
        for row in db.execute("SELECT owner, name, email FROM contacts ORDER BY id"):
            by_owner.setdefault(row["owner"], []).append({"name": row["name"], "email": row["email"]})
        self._by_owner, self._read_at = by_owner, seen
