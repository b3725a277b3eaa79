"""Contacts, per user, in SQLite (seeded from TARGET_API_SEED_FILE on first start), answered
from memory.

The seed is keyed by the demo tenant's user ids. So that the demo shows contacts against
any provider, a user this API has never seen gets a few sample contacts at their first
call, marked ``"sample": true`` in the answer and kept like any other, so they are the same
at every call and after a restart.

Each process keeps every contact (and every owner it has seen) in memory, read from the
database once, and writes to the database before it answers (so a contact survives a
restart). The workers share the database, not their memory: before answering from memory
a process asks SQLite whether any connection has written since its last read (``PRAGMA
data_version``, no table read), and reads again only then. That check is made on one
connection per process, so that every write, by this process or another, moves what it
answers.
"""

from __future__ import annotations

import hashlib
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
CREATE TABLE IF NOT EXISTS owners (owner TEXT PRIMARY KEY);
"""
SAMPLE_NAMES = [
    "Ada Abbott",
    "Bruno Berg",
    "Chiara Conti",
    "Dmitri Dahl",
    "Esi Eze",
    "Farah Fontaine",
    "Goran Gill",
    "Hana Hoshino",
]
SAMPLES_PER_USER = 3


def samples_for(owner: str) -> list[tuple[str, str]]:
    """The sample contacts of ``owner``: picked from the owner id, so the same ones each time."""
    start = int.from_bytes(hashlib.sha256(owner.encode()).digest()[:4], "big") % len(SAMPLE_NAMES)
    names = [SAMPLE_NAMES[(start + i) % len(SAMPLE_NAMES)] for i in range(SAMPLES_PER_USER)]
    return [(name, name.split()[0].lower() + "@sample.example.com") for name in names]


class ContactBook:
    def __init__(self, path: Path, seed_file: Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._by_owner: dict[str, list[dict]] = {}
        self._owners: set[str] = set()
        self._read_at: tuple | None = None  # (pid, data_version) of the last read
        # (pid, connection, the cursor that asks for data_version: kept, as it is asked per call)
        self._reader: tuple[int, sqlite3.Connection, sqlite3.Cursor] | None = None
        self._reading = threading.Lock()
        db = self._db()
        db.executescript(SCHEMA)
        db.execute("BEGIN IMMEDIATE")
        columns = {row["name"] for row in db.execute("PRAGMA table_info(contacts)")}
        if "sample" not in columns:  # a database made before samples existed
            db.execute("ALTER TABLE contacts ADD COLUMN sample INTEGER NOT NULL DEFAULT 0")
        if not db.execute("SELECT 1 FROM seeded").fetchone():
            seed = yaml.safe_load(Path(seed_file).read_text()) or {}
            for owner, contacts in seed.items():
                db.executemany(
                    "INSERT INTO contacts (owner, name, email) VALUES (?, ?, ?)",
                    [(owner, c["name"], c["email"]) for c in contacts or []],
                )
                db.execute("INSERT OR IGNORE INTO owners (owner) VALUES (?)", (owner,))
            db.execute("INSERT INTO seeded (done) VALUES (1)")
        # Owners of contacts kept before the owners table existed are known too.
        db.execute("INSERT OR IGNORE INTO owners (owner) SELECT DISTINCT owner FROM contacts")
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
            self._fresh()
            if owner not in self._owners:  # a first call: recorded, with the sample contacts
                self._know(self._db(), owner, with_samples=True)
                self._fresh()
            return [dict(contact) for contact in self._by_owner.get(owner, ())]

    def add(self, owner: str, name: str, email: str) -> dict:
        db = self._db()
        self._know(db, owner, with_samples=False)
        db.execute("INSERT INTO contacts (owner, name, email) VALUES (?, ?, ?)", (owner, name, email))
        return {"name": name, "email": email}

    def _know(self, db: sqlite3.Connection, owner: str, with_samples: bool) -> None:
        """Record ``owner`` as seen; at their first read, with their sample contacts."""
        if db.execute("SELECT 1 FROM owners WHERE owner = ?", (owner,)).fetchone():
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another worker may have got here first: the insert decides who adds the samples.
            first = db.execute("INSERT OR IGNORE INTO owners (owner) VALUES (?)", (owner,)).rowcount == 1
            if first and with_samples:
                db.executemany(
                    "INSERT INTO contacts (owner, name, email, sample) VALUES (?, ?, ?, 1)",
                    [(owner, name, email) for name, email in samples_for(owner)],
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _fresh(self) -> None:
        """Read everything again if any connection wrote since the last read."""
        db, version = self._reader_db()
        version.execute("PRAGMA data_version")
        seen = (os.getpid(), version.fetchone()[0])
        if seen == self._read_at:
            return
        by_owner: dict[str, list[dict]] = {}
        for row in db.execute("SELECT owner, name, email, sample FROM contacts ORDER BY id"):
            by_owner.setdefault(row["owner"], []).append(_contact(row))
        self._owners = {row["owner"] for row in db.execute("SELECT owner FROM owners")}
        self._by_owner, self._read_at = by_owner, seen

    def _reader_db(self) -> tuple[sqlite3.Connection, sqlite3.Cursor]:
        if self._reader is None or self._reader[0] != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            self._reader = (os.getpid(), conn, conn.cursor())
        return self._reader[1], self._reader[2]


def _contact(row: sqlite3.Row) -> dict:
    contact = {"name": row["name"], "email": row["email"]}
    if row["sample"]:
        contact["sample"] = True
    return contact
