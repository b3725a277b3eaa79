"""The ``login_failures`` and ``login_sessions`` tables: failed logins (counted by
``mock_idp.login_throttle``) and the sessions a login cookie names.
"""

from __future__ import annotations

import sqlite3

from .database import Database


class Logins(Database):
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

    def latest_login_failure(self, key: str, since: int) -> tuple[int, int | None]:
        """How many failures of ``key`` since then, and when the latest of them was."""
        row = self.query(
            "SELECT COUNT(*) AS n, MAX(failed_at) AS latest FROM login_failures WHERE key = ? AND failed_at >= ?",
            (key, since),
        )[0]
        return row["n"], row["latest"]

    def clear_login_failures_like(self, pattern: str) -> int:
        """Forget the failures of every key matching ``pattern`` (SQL LIKE, ``\\`` escapes)."""
        return self.execute("DELETE FROM login_failures WHERE key LIKE ? ESCAPE '\\'", (pattern,))

    def clear_login_failures(self, key: str) -> int:
        return self.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    def clear_all_login_failures(self) -> int:
        return self.execute("DELETE FROM login_failures")

    def forget_login_failures_before(self, before: int) -> int:
        return self.execute("DELETE FROM login_failures WHERE failed_at < ?", (before,))

    def start_login_session(
        self, session_id: str, user_id: str, auth_time: int, expires_at: int, acr: str | None = None
    ) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM login_sessions WHERE expires_at <= ?", (auth_time,))  # expired: never live again
            db.execute(
                "INSERT INTO login_sessions (session_id, user_id, auth_time, expires_at, acr) VALUES (?, ?, ?, ?, ?)",
                (session_id, user_id, auth_time, expires_at, acr),
            )

    def step_up_login_session(self, session_id: str, acr: str, auth_time: int) -> bool:
        """A live session's user authenticated again, more strongly (the second factor)."""
        return bool(
            self.execute(
                "UPDATE login_sessions SET acr = ?, auth_time = ? "
                "WHERE session_id = ? AND ended_at IS NULL AND expires_at > ?",
                (acr, auth_time, session_id, auth_time),
            )
        )

    def live_login_session(self, session_id: str, now: int) -> sqlite3.Row | None:
        rows = self.query(
            "SELECT * FROM login_sessions WHERE session_id = ? AND ended_at IS NULL AND expires_at > ?",
            (session_id, now),
        )
        return rows[0] if rows else None

    def login_session(self, session_id: str) -> sqlite3.Row | None:
        """The session, live or not (ended or expired, but not yet forgotten)."""
        rows = self.query("SELECT * FROM login_sessions WHERE session_id = ?", (session_id,))
        return rows[0] if rows else None

    def end_login_session(self, session_id: str, now: int) -> bool:
        return bool(
            self.execute(
                "UPDATE login_sessions SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL", (now, session_id)
            )
        )
