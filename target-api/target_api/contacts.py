"""Contacts, per user, in SQLite (seeded from contacts.yaml on first start)."""

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
        rows = self._db().execute("SELECT name, email FROM contacts WHERE owner = ? ORDER BY id", (owner,))
        return [dict(row) for row in rows]

    def add(self, owner: str, name: str, email: str) -> dict:
        self._db().execute("INSERT INTO contacts (owner, name, email) VALUES (?, ?, ?)", (owner, name, email))
        return {"name": name, "email": email}
