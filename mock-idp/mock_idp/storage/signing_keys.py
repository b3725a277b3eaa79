"""The ``signing_keys`` table: every key ever made, each current, previous or retired.

Keys are stored as private JWKs (JSON text); making and parsing them is the caller's
(``mock_idp.keys``). ``make_key`` arguments return ``(kid, private_jwk)`` and are only
called inside the transaction that needs a new key, so two workers never both make one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from .database import Database

MakeKey = Callable[[], tuple[str, str]]


class SigningKeyRows(Database):
    def signing_keys(self, states=("current", "previous")) -> list[sqlite3.Row]:
        marks = ",".join("?" for _ in states)
        return self.query(
            f"SELECT kid, private_jwk, state, created_at, rotated_at FROM signing_keys "
            f"WHERE state IN ({marks}) ORDER BY created_at DESC, rowid DESC",
            tuple(states),
        )

    def add_first_signing_key(self, make_key: MakeKey, now: int) -> None:
        """Store a current key if there is none (safe when several workers start at once)."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM signing_keys WHERE state = 'current'").fetchone():
                return
            _add_current(db, make_key(), now)

    def rotate_signing_keys(self, new_key: tuple[str, str], now: int) -> None:
        """The new key becomes current; the old current becomes previous, older ones retire."""
        with self.transaction() as db:
            db.execute("UPDATE signing_keys SET state = 'retired', rotated_at = ? WHERE state = 'previous'", (now,))
            db.execute("UPDATE signing_keys SET state = 'previous', rotated_at = ? WHERE state = 'current'", (now,))
            _add_current(db, new_key, now)

    def reset_signing_keys(self, make_key: MakeKey, now: int) -> str:
        """The oldest key still published becomes current again, and the keys published
        after it previous; a retired key stays retired, so a reset never makes a key
        trusted again. With no key at all, a new one is made. Returns the current kid."""
        with self.transaction() as db:
            oldest = db.execute(
                "SELECT kid, state FROM signing_keys WHERE state IN ('current', 'previous') "
                "ORDER BY created_at, rowid LIMIT 1"
            ).fetchone()
            if oldest is None:
                key = make_key()
                _add_current(db, key, now)
                return key[0]
            if oldest["state"] == "previous":
                db.execute("UPDATE signing_keys SET state = 'previous', rotated_at = ? WHERE state = 'current'", (now,))
                db.execute(
                    "UPDATE signing_keys SET state = 'current', rotated_at = NULL WHERE kid = ?", (oldest["kid"],)
                )
        return oldest["kid"]


def _add_current(db: sqlite3.Connection, key: tuple[str, str], now: int) -> None:
    kid, private_jwk = key
    db.execute(
        "INSERT INTO signing_keys (kid, private_jwk, state, created_at) VALUES (?, ?, 'current', ?)",
        (kid, private_jwk, now),
    )
