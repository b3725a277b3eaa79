"""Durable state in SQLite: signing keys, codes, refresh tokens, consents, tenant logs.

Several gunicorn workers share one database file. WAL mode lets readers run beside a
writer; every state change that must not race (using a code, rotating a refresh token,
creating the first signing key) is a single conditional UPDATE or runs under
BEGIN IMMEDIATE. Each thread of each process opens its own connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tenant_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    file_digest TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    private_jwk TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('current', 'previous', 'retired')),
    created_at INTEGER NOT NULL,
    rotated_at INTEGER
);
CREATE TABLE IF NOT EXISTS authorization_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT,
    nonce TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT,
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    audience TEXT,
    scope TEXT NOT NULL,
    auth_time INTEGER,
    code_hash TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
-- A family (every refresh token of one login) once revoked stays revoked: a token of it
-- written after the revocation (a race with reuse detection) is born revoked.
CREATE TABLE IF NOT EXISTS revoked_families (
    family_id TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refresh_tokens_code ON refresh_tokens (code_hash);
-- A grant made by a token exchange, and the grant (login) of its subject token: revoking
-- the login revokes what was exchanged from it (RFC 7009 2.1, RFC 9700 4.14.2).
CREATE TABLE IF NOT EXISTS derived_grants (
    family_id TEXT PRIMARY KEY,
    parent_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS derived_grants_parent ON derived_grants (parent_id);
CREATE TABLE IF NOT EXISTS consents (
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id, audience)
);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    log_id TEXT NOT NULL UNIQUE,
    date TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT NOT NULL,
    client_id TEXT,
    client_name TEXT,
    audience TEXT,
    user_id TEXT,
    ip TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS logs_type ON logs (type);
-- Failed logins, one row each, keyed by account ("account:<email>") and by address.
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL,
    failed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, failed_at);
-- Login sessions at the identity provider: the cookie holds only the session_id.
CREATE TABLE IF NOT EXISTS login_sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER
);
"""


class Storage:
    """All durable state of the identity provider, behind one small interface."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connection().executescript(SCHEMA)  # idempotent: IF NOT EXISTS throughout

    # -- connections -------------------------------------------------------------

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
        """BEGIN IMMEDIATE ... COMMIT: one writer at a time across all workers."""
        db = self._connection()
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

    # -- settings ----------------------------------------------------------------

    def setting(self, name: str, make_value) -> str:
        """The stored value of a setting, created by make_value() on first use."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
            if row:
                return row["value"]
            value = make_value()
            db.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, value))
            return value

    # -- signing keys --------------------------------------------------------------

    def signing_keys(self, states=("current", "previous")) -> list[sqlite3.Row]:
        marks = ",".join("?" for _ in states)
        return self.query(
            f"SELECT kid, private_jwk, state, created_at, rotated_at FROM signing_keys "
            f"WHERE state IN ({marks}) ORDER BY created_at DESC, rowid DESC",
            tuple(states),
        )

    # -- authorization codes -------------------------------------------------------

    def save_code(self, **row) -> None:
        columns = ",".join(row)
        marks = ",".join("?" for _ in row)
        self.execute(f"INSERT INTO authorization_codes ({columns}) VALUES ({marks})", tuple(row.values()))

    def use_code(self, code_hash: str, now: int) -> tuple[sqlite3.Row | None, bool]:
        """Mark a code used, atomically. Returns the code and whether it was used before."""
        first_use = self.execute(
            "UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
            (now, code_hash),
        )
        rows = self.query("SELECT * FROM authorization_codes WHERE code_hash = ?", (code_hash,))
        return (rows[0] if rows else None), not first_use

    # -- refresh tokens ------------------------------------------------------------

    def save_refresh_token(self, **row) -> None:
        with self.transaction() as db:
            revoked = db.execute(
                "SELECT revoked_at FROM revoked_families WHERE family_id = ? UNION ALL "
                "SELECT revoked_at FROM authorization_codes WHERE code_hash = ? AND revoked_at IS NOT NULL",
                (row["family_id"], row.get("code_hash")),
            ).fetchone()
            row = dict(row, revoked_at=revoked["revoked_at"] if revoked else None)
            columns = ",".join(row)
            marks = ",".join("?" for _ in row)
            db.execute(f"INSERT INTO refresh_tokens ({columns}) VALUES ({marks})", tuple(row.values()))

    def refresh_token(self, token_hash: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,))
        return rows[0] if rows else None

    def mark_rotated(self, token_hash: str, now: int) -> bool:
        """True for the one request that rotates this token; False if it already was."""
        return bool(
            self.execute(
                "UPDATE refresh_tokens SET rotated_at = ? "
                "WHERE token_hash = ? AND rotated_at IS NULL AND revoked_at IS NULL",
                (now, token_hash),
            )
        )

    def revoke_family(self, family_id: str, now: int) -> int:
        """Revoke a family and every grant exchanged from it; returns how many of those."""
        with self.transaction() as db:
            return len(_revoke_families(db, [family_id], now)) - 1

    def link_grant(self, family_id: str, parent_id: str, now: int) -> bool:
        """Record that ``family_id`` was exchanged from ``parent_id``. False (and the new
        grant born revoked) when the parent was revoked meanwhile."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO derived_grants (family_id, parent_id) VALUES (?, ?)", (family_id, parent_id)
            )
            revoked = db.execute("SELECT 1 FROM revoked_families WHERE family_id = ?", (parent_id,)).fetchone()
            if revoked:
                _revoke_families(db, [family_id], now)
            return not revoked

    def grant_revoked(self, family_id: str) -> bool:
        return bool(self.query("SELECT 1 FROM revoked_families WHERE family_id = ?", (family_id,)))

    def revoke_tokens_of_code(self, code_hash: str, now: int) -> None:
        """A replayed code: revoke what it issued, and what it is about to issue."""
        with self.transaction() as db:
            db.execute("UPDATE authorization_codes SET revoked_at = ? WHERE code_hash = ?", (now, code_hash))
            families = db.execute("SELECT DISTINCT family_id FROM refresh_tokens WHERE code_hash = ?", (code_hash,))
            _revoke_families(db, [family_id for (family_id,) in families.fetchall()], now)
            db.execute(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE code_hash = ? AND revoked_at IS NULL",
                (now, code_hash),
            )

    # -- consents ------------------------------------------------------------------

    def consented_scopes(self, user_id: str, client_id: str, audience: str) -> set[str]:
        rows = self.query(
            "SELECT scope FROM consents WHERE user_id = ? AND client_id = ? AND audience = ?",
            (user_id, client_id, audience),
        )
        return set(rows[0]["scope"].split()) if rows else set()

    def save_consent(self, user_id: str, client_id: str, audience: str, scopes: set[str], now: int):
        with self.transaction() as db:
            row = db.execute(
                "SELECT scope FROM consents WHERE user_id = ? AND client_id = ? AND audience = ?",
                (user_id, client_id, audience),
            ).fetchone()
            merged = set(row["scope"].split()) if row else set()
            merged |= scopes
            db.execute(
                "INSERT OR REPLACE INTO consents (user_id, client_id, audience, scope, granted_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (user_id, client_id, audience, " ".join(sorted(merged)), now),
            )

    def consents(self, user_id: str | None = None) -> list[dict]:
        sql = "SELECT rowid AS id, user_id, client_id, audience, scope, granted_at FROM consents"
        rows = self.query(sql + " WHERE user_id = ?", (user_id,)) if user_id else self.query(sql)
        return [dict(row) for row in rows]

    def delete_consent(self, consent_id: int) -> bool:
        return bool(self.execute("DELETE FROM consents WHERE rowid = ?", (consent_id,)))

    def delete_consents_of(self, user_id: str) -> int:
        return self.execute("DELETE FROM consents WHERE user_id = ?", (user_id,))

    # -- rate limits ---------------------------------------------------------------

    def count_in_window(self, key: str, window_start: int) -> int:
        """Add one to the counter of ``key`` for this window (a new window starts at 1)."""
        row = (
            self._connection()
            .execute(
                "INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END, "
                "window_start = excluded.window_start "
                "RETURNING count",
                (key, window_start),
            )
            .fetchall()
        )  # fetch all: the statement (and its write lock) ends with the last row
        return row[0]["count"]

    # -- failed logins -------------------------------------------------------------

    def add_login_failure(self, keys: list[str], now: int) -> None:
        with self.transaction() as db:
            db.executemany("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)", [(k, now) for k in keys])

    def login_failures(self, key: str, since: int) -> tuple[int, int | None]:
        """How many failures of ``key`` since then, and when the oldest of them was."""
        row = self.query(
            "SELECT COUNT(*) AS n, MIN(failed_at) AS oldest FROM login_failures WHERE key = ? AND failed_at >= ?",
            (key, since),
        )[0]
        return row["n"], row["oldest"]

    def clear_login_failures(self, key: str) -> int:
        return self.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    def clear_all_login_failures(self) -> int:
        return self.execute("DELETE FROM login_failures")

    def forget_login_failures_before(self, before: int) -> int:
        return self.execute("DELETE FROM login_failures WHERE failed_at < ?", (before,))

    # -- login sessions --------------------------------------------------------------

    def start_login_session(self, session_id: str, user_id: str, auth_time: int, expires_at: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM login_sessions WHERE expires_at <= ?", (auth_time,))  # expired: never live again
            db.execute(
                "INSERT INTO login_sessions (session_id, user_id, auth_time, expires_at) VALUES (?, ?, ?, ?)",
                (session_id, user_id, auth_time, expires_at),
            )

    def live_login_session(self, session_id: str, now: int) -> sqlite3.Row | None:
        rows = self.query(
            "SELECT * FROM login_sessions WHERE session_id = ? AND ended_at IS NULL AND expires_at > ?",
            (session_id, now),
        )
        return rows[0] if rows else None

    def end_login_session(self, session_id: str, now: int) -> bool:
        return bool(
            self.execute(
                "UPDATE login_sessions SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL", (now, session_id)
            )
        )

    # -- tenant logs ---------------------------------------------------------------

    def append_log(self, entry: dict) -> None:
        row = dict(entry, details=json.dumps(entry.get("details") or {}, sort_keys=True))
        columns = ",".join(row)
        marks = ",".join("?" for _ in row)
        self.execute(f"INSERT INTO logs ({columns}) VALUES ({marks})", tuple(row.values()))

    def logs(
        self,
        limit: int = 50,
        offset: int = 0,
        types: tuple[str, ...] = (),
        since: str | None = None,
        until: str | None = None,
        after: str | None = None,
        hide_client_credentials_of: tuple[str, ...] = (),
        **filters,
    ) -> tuple[list[dict], int]:
        """Log entries, newest first, and how many match in all.

        ``after`` (a log_id) keeps the entries written after that one; of those, the
        ``limit`` oldest are answered, so a reader that polls with the newest id it has
        catches up without a gap. An unknown id matches nothing.
        ``hide_client_credentials_of`` leaves out the client_credentials entries
        (``seccft``/``feccft``) of those clients: the Management API's own token requests,
        which would drown a workshop's log.
        """
        where, params = [], []
        for column in ("client_id", "user_id", "audience", "log_id"):
            if filters.get(column):
                where.append(f"{column} = ?")
                params.append(filters[column])
        if types:
            where.append(f"type IN ({','.join('?' for _ in types)})")
            params.extend(types)
        if since:
            where.append("date >= ?")
            params.append(since)
        if until:
            where.append("date <= ?")
            params.append(until)
        if after:
            where.append("seq > (SELECT seq FROM logs WHERE log_id = ?)")
            params.append(after)
        if hide_client_credentials_of:
            # COALESCE: an entry without a client (NULL) is not one of theirs, and stays.
            marks = ",".join("?" for _ in hide_client_credentials_of)
            where.append(f"NOT (type IN ('seccft', 'feccft') AND COALESCE(client_id, '') IN ({marks}))")
            params.extend(hide_client_credentials_of)
        condition = (" WHERE " + " AND ".join(where)) if where else ""
        total = self.query(f"SELECT COUNT(*) AS n FROM logs{condition}", params)[0]["n"]
        order = "ASC" if after else "DESC"
        sql = f"SELECT * FROM logs{condition} ORDER BY seq {order} LIMIT ? OFFSET ?"
        rows = self.query(sql, (*params, limit, offset))
        if after:
            rows.reverse()
        entries = [dict(row, details=json.loads(row["details"])) for row in rows]
        for entry in entries:
            del entry["seq"]
        return entries, total

    def clear_logs(self) -> int:
        """Delete every log entry; returns how many there were."""
        return self.execute("DELETE FROM logs")


def _revoke_families(db: sqlite3.Connection, family_ids: list[str], now: int) -> list[str]:
    """Revoke these families and, transitively, the grants exchanged from them."""
    revoked, pending = [], list(family_ids)
    while pending:
        family_id = pending.pop()
        if family_id in revoked:
            continue
        revoked.append(family_id)
        db.execute("INSERT OR IGNORE INTO revoked_families (family_id, revoked_at) VALUES (?, ?)", (family_id, now))
        db.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", (now, family_id)
        )
        children = db.execute("SELECT family_id FROM derived_grants WHERE parent_id = ?", (family_id,))
        pending.extend(child for (child,) in children.fetchall())
    return revoked
